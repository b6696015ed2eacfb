import Foundation
import OpenCLRuntime

/// The backend for `choice`. A failure exits 3 for `opencl` (1 otherwise), except that `auto` falls
/// back to the CPU (with one line on standard error) when the OpenCL backend cannot start.
func makeBackend<B>(_ choice: BackendChoice, command: String, _ make: (BackendChoice.Resolved) throws -> B) throws -> B {
    do {
        let resolved = try choice.resolve { printError("rusty: \(command): \($0)") }
        do {
            return try make(resolved)
        } catch where choice == .auto && resolved != .simd {
            printError("rusty: \(command): OpenCL failed (\(error)); using the CPU backend (simd)")
            return try make(.simd)
        }
    } catch {
        // Asked for OpenCL and it cannot start: the table's own status, so scripts can fall back.
        throw CommandFailure(choice == .opencl ? .openCLUnavailable : .invalid, "\(command): \(error)")
    }
}
