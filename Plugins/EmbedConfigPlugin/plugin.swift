// Embeds the chain parameter files of Config/ into the target that uses this plugin.
import Foundation
import PackagePlugin

@main
struct EmbedConfigPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let configDirectory = context.package.directoryURL.appending(path: "Config")
        let inputs = try FileManager.default
            .contentsOfDirectory(at: configDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedConfig.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) chain parameter files",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path, "EmbeddedConfig"] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
