// Embeds the OpenCL C kernels of Kernels/ into the target that uses this plugin
// (`EmbeddedKernels.files`, keyed by file name), so an installed `rusty` never reads the source tree.
import Foundation
import PackagePlugin

@main
struct EmbedKernelsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernelDirectory = context.package.directoryURL.appending(path: "Kernels")
        let inputs = try FileManager.default
            .contentsOfDirectory(at: kernelDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "cl" }
            .sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) OpenCL kernel files",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path, "EmbeddedKernels"] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
