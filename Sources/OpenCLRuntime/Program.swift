import COpenCL
import Foundation

/// A program built for one device. Kernels made from it are not shared between threads.
public final class OpenCLProgram: @unchecked Sendable {
    let program: cl_program
    public let device: OpenCLDevice
    /// Whether this program came from a cached binary rather than a source compile.
    public let fromBinary: Bool

    /// Compiles `source`; a failure throws with the build log in `detail`.
    init(context: OpenCLContext, source: String, options: String) throws(OpenCLError) {
        var status: cl_int = 0
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return clCreateProgramWithSource(context.context, 1, &pointer, &length, &status)
        }
        guard let created, status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateProgramWithSource", code: status == CL_SUCCESS ? CL_OUT_OF_HOST_MEMORY : status)
        }
        program = created
        device = context.device
        fromBinary = false
        try build(options: options)
    }

    /// Loads a binary from `clGetProgramInfo(CL_PROGRAM_BINARIES)` and builds it.
    init(context: OpenCLContext, binary: [UInt8], options: String) throws(OpenCLError) {
        var status: cl_int = 0
        var binaryStatus: cl_int = 0
        var deviceID: cl_device_id? = context.device.id
        var length = binary.count
        let created: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(context.context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        guard let created, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
            if let created { clReleaseProgram(created) }
            throw OpenCLError(call: "clCreateProgramWithBinary", code: status != CL_SUCCESS ? status : binaryStatus)
        }
        program = created
        device = context.device
        fromBinary = true
        try build(options: options)
    }

    deinit { clReleaseProgram(program) }

    private func build(options: String) throws(OpenCLError) {
        var deviceID: cl_device_id? = device.id
        OpenCL.buildLock.lock()
        let status = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        OpenCL.buildLock.unlock()
        if status != CL_SUCCESS {
            let log = buildLog()
            throw OpenCLError(call: "clBuildProgram", code: status,
                              detail: log.isEmpty ? "(empty build log)" : "build log for \(device.name):\n\(log)")
        }
    }

    /// The compiler's log for this device (warnings, or the errors of a failed build).
    public func buildLog() -> String {
        var size = 0
        guard clGetProgramBuildInfo(program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size) == CL_SUCCESS,
              size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        guard clGetProgramBuildInfo(program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil) == CL_SUCCESS
        else { return "" }
        return trimmed(bytes)
    }

    /// The device binary (CL_PROGRAM_BINARIES) for caching.
    public func binary() throws(OpenCLError) -> [UInt8] {
        var size = 0
        try check(clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil),
                  "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)")
        guard size > 0 else { throw OpenCLError(call: "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)", code: CL_INVALID_BINARY) }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                                    &pointer, nil)
        }
        try check(status, "clGetProgramInfo(CL_PROGRAM_BINARIES)")
        return bytes
    }

    public func kernel(named name: String) throws(OpenCLError) -> OpenCLKernel {
        var status: cl_int = 0
        guard let kernel = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateKernel(\(name))", code: status == CL_SUCCESS ? CL_INVALID_KERNEL_NAME : status)
        }
        return OpenCLKernel(kernel: kernel, name: name, program: self)
    }
}

/// A kernel and its arguments. Setting arguments is not thread-safe: one kernel per thread.
public final class OpenCLKernel: @unchecked Sendable {
    let kernel: cl_kernel
    public let name: String
    let program: OpenCLProgram // keeps the program alive

    init(kernel: cl_kernel, name: String, program: OpenCLProgram) {
        self.kernel = kernel
        self.name = name
        self.program = program
    }

    deinit { clReleaseKernel(kernel) }

    public func setArgument(_ index: Int, _ buffer: OpenCLBuffer) throws(OpenCLError) {
        var memory: cl_mem? = buffer.memory
        try check(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &memory), "clSetKernelArg(\(name), \(index))")
    }

    /// A NULL `__global` pointer argument (OpenCL 1.2 allows one for a buffer argument).
    public func setNullArgument(_ index: Int) throws(OpenCLError) {
        try check(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, nil), "clSetKernelArg(\(name), \(index), NULL)")
    }

    /// A scalar argument (`cl_uint`, `cl_ulong`, ...), passed by value.
    public func setArgument<T: FixedWidthInteger>(_ index: Int, _ value: T) throws(OpenCLError) {
        var value = value
        try check(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<T>.size, &value), "clSetKernelArg(\(name), \(index))")
    }
}
