// Embeds the git commit the command was built from (`BuildCommit.hash`, shown by
// `rusty --version`). A prebuild command runs on every build, so the commit is never stale;
// it rewrites the file only when the text changes, so an unchanged commit recompiles nothing.
// Without git, or outside a git checkout of this package (a source tarball, even one
// unpacked inside another repository), the commit is "unknown" and the build still works.
import Foundation
import PackagePlugin

@main
struct EmbedGitCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "GitCommit")
        let script = #"""
            dir="$1"; outdir="$2"; out="$outdir/BuildCommit.swift"; commit=unknown
            top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null) || top=
            if [ -n "$top" ] && [ "$top" = "$(cd "$dir" && pwd -P)" ]; then
                commit=$(git -C "$dir" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
                if [ "$commit" != unknown ] && [ -n "$(git -C "$dir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                    commit="$commit-dirty"
                fi
            fi
            text="enum BuildCommit { static let hash = \"$commit\" }"
            mkdir -p "$outdir"
            [ "$(cat "$out" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$out"
            """#
        return [
            .prebuildCommand(
                displayName: "Embedding the git commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output
            )
        ]
    }
}
