import COpenCL
import Foundation

/// A context and an in-order command queue on one device. Programs built here are kept for
/// the life of the context (one build per process and source), so callers may ask again.
public final class OpenCLContext: @unchecked Sendable {
    public let device: OpenCLDevice
    let context: cl_context
    let queue: cl_command_queue
    private let lock = NSLock()
    private var programs: [String: OpenCLProgram] = [:]

    public init(device: OpenCLDevice) throws(OpenCLError) {
        self.device = device
        var status: cl_int = 0
        var deviceID: cl_device_id? = device.id
        guard let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateContext", code: status == CL_SUCCESS ? CL_OUT_OF_HOST_MEMORY : status)
        }
        guard let queue = clCreateCommandQueue(context, device.id, 0, &status), status == CL_SUCCESS else {
            clReleaseContext(context)
            throw OpenCLError(call: "clCreateCommandQueue", code: status == CL_SUCCESS ? CL_OUT_OF_HOST_MEMORY : status)
        }
        self.context = context
        self.queue = queue
    }

    deinit {
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    // MARK: Shared contexts

    nonisolated(unsafe) private static var sharedContexts: [OpenCLDevice: OpenCLContext] = [:]
    private static let sharedLock = NSLock()

    /// One context per device per process, so programs are built once and reused.
    public static func shared(for device: OpenCLDevice) throws(OpenCLError) -> OpenCLContext {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let context = sharedContexts[device] { return context }
        let context = try OpenCLContext(device: device)
        sharedContexts[device] = context
        return context
    }

    // MARK: Programs

    /// The program built from `source` for this device: from memory when this context built
    /// it before, else from the binary cache when it holds a usable binary, else compiled
    /// from source (and the binary stored). A failed compile throws with the build log.
    public func program(source: String, options: String = "", cache: ProgramBinaryCache? = .standard) throws(OpenCLError) -> OpenCLProgram {
        let key = ProgramBinaryCache.key(device: device, options: options, source: source)
        lock.lock()
        defer { lock.unlock() }
        if let program = programs[key] { return program }
        var built: OpenCLProgram?
        if let cache, let binary = cache.load(key: key) {
            built = try? OpenCLProgram(context: self, binary: binary, options: options)
            if built == nil { cache.remove(key: key) }
        }
        if built == nil {
            let program = try OpenCLProgram(context: self, source: source, options: options)
            if let cache, let binary = try? program.binary() { cache.store(key: key, binary: binary) }
            built = program
        }
        programs[key] = built!
        return built!
    }

    // MARK: Buffers and transfers

    public func buffer(size: Int, access: OpenCLBuffer.Access = .readWrite) throws(OpenCLError) -> OpenCLBuffer {
        try OpenCLBuffer(context: self, size: size, flags: access.flags, host: nil)
    }

    /// A buffer holding a copy of `bytes`.
    public func buffer(copying bytes: UnsafeRawBufferPointer, access: OpenCLBuffer.Access = .readOnly) throws(OpenCLError) -> OpenCLBuffer {
        try OpenCLBuffer(context: self, size: bytes.count, flags: access.flags | cl_mem_flags(CL_MEM_COPY_HOST_PTR),
                         host: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    /// Blocking write of `bytes` at `offset`.
    public func write(_ buffer: OpenCLBuffer, from bytes: UnsafeRawBufferPointer, offset: Int = 0) throws(OpenCLError) {
        guard bytes.count > 0 else { return }
        try check(clEnqueueWriteBuffer(queue, buffer.memory, cl_bool(CL_TRUE), offset, bytes.count, bytes.baseAddress, 0, nil, nil),
                  "clEnqueueWriteBuffer")
    }

    /// Blocking read into `bytes` from `offset`.
    public func read(_ buffer: OpenCLBuffer, into bytes: UnsafeMutableRawBufferPointer, offset: Int = 0) throws(OpenCLError) {
        guard bytes.count > 0 else { return }
        try check(clEnqueueReadBuffer(queue, buffer.memory, cl_bool(CL_TRUE), offset, bytes.count, bytes.baseAddress, 0, nil, nil),
                  "clEnqueueReadBuffer")
    }

    // MARK: Launches

    /// Enqueues a 1-D launch of `globalSize` work-items (`localSize` nil lets the driver
    /// choose) and returns its event.
    @discardableResult
    public func enqueue(_ kernel: OpenCLKernel, globalSize: Int, localSize: Int? = nil) throws(OpenCLError) -> OpenCLEvent {
        var global = globalSize
        var local = localSize ?? 0
        var event: cl_event?
        let status = withUnsafeMutablePointer(to: &local) { localPointer in
            clEnqueueNDRangeKernel(queue, kernel.kernel, 1, nil, &global, localSize == nil ? nil : localPointer, 0, nil, &event)
        }
        try check(status, "clEnqueueNDRangeKernel(\(kernel.name))")
        return OpenCLEvent(event!, call: "clEnqueueNDRangeKernel(\(kernel.name))")
    }

    /// Waits for every command in the queue.
    public func finish() throws(OpenCLError) {
        try check(clFinish(queue), "clFinish")
    }
}

/// A completed-or-pending command; `wait()` blocks and reports a failed execution status.
public final class OpenCLEvent: @unchecked Sendable {
    let event: cl_event
    let call: String

    init(_ event: cl_event, call: String) {
        self.event = event
        self.call = call
    }

    deinit { clReleaseEvent(event) }

    public func wait() throws(OpenCLError) {
        var event: cl_event? = self.event
        let status = clWaitForEvents(1, &event)
        var execution: cl_int = 0
        clGetEventInfo(self.event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), MemoryLayout<cl_int>.size, &execution, nil)
        if execution < 0 { throw OpenCLError(call: call, code: execution) }
        try check(status, "clWaitForEvents(\(call))")
    }
}

/// A device buffer.
public final class OpenCLBuffer: @unchecked Sendable {
    let memory: cl_mem
    public let size: Int

    /// How kernels use the buffer.
    public enum Access: Sendable {
        case readOnly, writeOnly, readWrite
        var flags: cl_mem_flags {
            switch self {
            case .readOnly: return cl_mem_flags(CL_MEM_READ_ONLY)
            case .writeOnly: return cl_mem_flags(CL_MEM_WRITE_ONLY)
            case .readWrite: return cl_mem_flags(CL_MEM_READ_WRITE)
            }
        }
    }

    init(context: OpenCLContext, size: Int, flags: cl_mem_flags, host: UnsafeMutableRawPointer?) throws(OpenCLError) {
        var status: cl_int = 0
        guard let memory = clCreateBuffer(context.context, flags, max(size, 1), host, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateBuffer(\(size) bytes)", code: status == CL_SUCCESS ? CL_MEM_OBJECT_ALLOCATION_FAILURE : status)
        }
        self.memory = memory
        self.size = size
    }

    deinit { clReleaseMemObject(memory) }
}
