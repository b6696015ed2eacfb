import Foundation
import OpenCLKernels
import OpenCLRuntime
import Testing
import TestSupport

/// The first OpenCL device (PoCL's CPU device here and in CI); the tests that need one
/// fail with a clear message when there is none.
func firstDevice() throws -> OpenCLDevice {
    try #require(OpenCL.devices().first, "no OpenCL device: install pocl-opencl-icd")
}

func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct OpenCLRuntimeTests {
    @Test("platforms and devices are listed with their facts")
    func listsDevices() throws {
        let platforms = try OpenCL.platforms()
        #expect(!platforms.isEmpty)
        let device = try firstDevice()
        #expect(!device.name.isEmpty)
        #expect(device.computeUnits >= 1)
        #expect(device.globalMemory > 0)
        #expect(device.openCLCVersion.hasPrefix("OpenCL C"))
        #expect(!device.driverVersion.isEmpty)
        #expect(device.isLittleEndian)
    }

    @Test("errors name the call, the code and its CL_* name")
    func errorNames() {
        let error = OpenCLError(call: "clCreateKernel(x)", code: -46)
        #expect(error.description == "clCreateKernel(x) failed: CL_INVALID_KERNEL_NAME (-46)")
        #expect(OpenCLError.name(of: -1001) == "CL_PLATFORM_NOT_FOUND_KHR")
        #expect(OpenCLError.name(of: -11) == "CL_BUILD_PROGRAM_FAILURE")
        #expect(OpenCLError.name(of: -5) == "CL_OUT_OF_RESOURCES")
    }

    @Test("a kernel that fails to compile gives an error containing the build log")
    func buildFailureCarriesLog() throws {
        let context = try OpenCLContext.shared(for: try firstDevice())
        let source = """
            __kernel void broken(__global uint *out) {
              out[0] = rusty_undeclared_identifier + 1u;
            }
            """
        do {
            _ = try context.program(source: source, options: KernelSources.buildOptions, cache: nil)
            Issue.record("the broken kernel built")
        } catch {
            #expect(error.call == "clBuildProgram")
            #expect(error.codeName == "CL_BUILD_PROGRAM_FAILURE")
            #expect(error.description.contains("rusty_undeclared_identifier"), "\(error)")
            #expect(error.description.contains("build log"))
        }
    }

    @Test("an unknown kernel name is CL_INVALID_KERNEL_NAME")
    func unknownKernel() throws {
        let context = try OpenCLContext.shared(for: try firstDevice())
        let program = try context.program(source: "__kernel void tiny(__global uint *x) { x[get_global_id(0)] += 1u; }",
                                          cache: nil)
        #expect(throws: OpenCLError.self) { _ = try program.kernel(named: "missing") }
        do { _ = try program.kernel(named: "missing") } catch { #expect(error.codeName == "CL_INVALID_KERNEL_NAME") }
    }

    @Test("binaries are cached per device and source; a corrupt binary falls back to source")
    func binaryCache() throws {
        let device = try firstDevice()
        let directory = try temporaryDirectory("clcache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = ProgramBinaryCache(directory: directory)
        let source = "__kernel void add_one(__global uint *x) { x[get_global_id(0)] += 1u; }"

        // Fresh contexts, so nothing comes from the in-process program table.
        let first = try OpenCLContext(device: device).program(source: source, cache: cache)
        #expect(!first.fromBinary)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }
        #expect(files.count == 1)

        let context = try OpenCLContext(device: device)
        let second = try context.program(source: source, cache: cache)
        #expect(second.fromBinary)
        try runAddOne(context: context, program: second)

        // Corrupt the cached binary: the program is rebuilt from source and the cache rewritten.
        let url = directory.appendingPathComponent(files[0])
        try Data("not a program binary".utf8).write(to: url)
        let third = try OpenCLContext(device: device).program(source: source, cache: cache)
        #expect(!third.fromBinary)
        #expect(try Data(contentsOf: url) != Data("not a program binary".utf8))

        // A different source gets a different key.
        _ = try OpenCLContext(device: device).program(source: source + "\n", cache: cache)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }.count == 2)
    }

    func runAddOne(context: OpenCLContext, program: OpenCLProgram) throws {
        let kernel = try program.kernel(named: "add_one")
        let values: [UInt32] = (0..<64).map { UInt32($0) * 3 }
        let buffer = try values.withUnsafeBytes { try context.buffer(copying: $0, access: .readWrite) }
        try kernel.setArgument(0, buffer)
        try context.enqueue(kernel, globalSize: values.count).wait()
        var out = [UInt32](repeating: 0, count: values.count)
        try out.withUnsafeMutableBytes { try context.read(buffer, into: $0) }
        #expect(out == values.map { $0 + 1 })
    }

    @Test("the kernels are embedded at build time")
    func embedded() {
        #expect(KernelSources.names.contains("pow_search.cl"))
        #expect(KernelSources.names.contains("merkle.cl"))
        #expect(KernelSources.powSearch.contains("__kernel void pow_search"))
        #expect(KernelSources.merkle.contains("__kernel void merkle_level"))
    }

    @Test("backend choice: scalar and simd never need OpenCL; opencl finds the devices")
    func backendChoice() throws {
        #expect(try BackendChoice.scalar.resolve() == .scalar)
        #expect(try BackendChoice.simd.resolve() == .simd)
        guard case .opencl(let devices) = try BackendChoice.opencl.resolve() else {
            Issue.record("opencl did not resolve to devices")
            return
        }
        #expect(!devices.isEmpty)
        var notices = [String]()
        let auto = try BackendChoice.auto.resolve { notices.append($0) }
        if OpenCL.hasGPU {
            #expect(notices.isEmpty)
        } else {
            #expect(auto == .simd)
            #expect(notices.count == 1)
        }
    }
}
