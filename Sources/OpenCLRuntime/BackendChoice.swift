/// `--backend auto|opencl|simd|scalar`, shared by every hot path.
public enum BackendChoice: String, CaseIterable, Sendable {
    case auto, opencl, simd, scalar

    /// What a choice comes to on this machine.
    public enum Resolved: Sendable, Equatable {
        case opencl([OpenCLDevice])
        case simd
        case scalar
    }

    /// `auto` takes OpenCL when a GPU (or accelerator) exists and otherwise the CPU path,
    /// calling `notice` once to say so; `opencl` uses the GPUs, or every device when there
    /// is no GPU (e.g. PoCL), and throws when there is no platform or device at all.
    public func resolve(notice: (String) -> Void = { _ in }) throws(BackendUnavailable) -> Resolved {
        switch self {
        case .scalar: return .scalar
        case .simd: return .simd
        case .opencl:
            let devices = OpenCL.computeDevices()
            if devices.isEmpty { throw BackendUnavailable.noOpenCLDevice }
            return .opencl(devices)
        case .auto:
            let gpus = OpenCL.devices().filter(\.isGPULike)
            if !gpus.isEmpty { return .opencl(gpus) }
            notice("no OpenCL GPU found; using the CPU backend (simd)")
            return .simd
        }
    }
}

public enum BackendUnavailable: Error, CustomStringConvertible, Sendable {
    case noOpenCLDevice

    public var description: String {
        switch self {
        case .noOpenCLDevice:
            return "--backend opencl: no OpenCL platform or device found (install an OpenCL driver such as "
                + "pocl-opencl-icd, check OCL_ICD_VENDORS, or use --backend auto|simd|scalar)"
        }
    }
}
