using System.Collections.Concurrent;

namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Shared by every spec of the <see cref="NativeCollection"/>: publishes darksidesync.so (and
/// dss.lua) with NativeAOT once per test run, and compiles C files once each.
/// </summary>
/// <remarks>
/// The publish is the README's command with its own output and intermediate folders under
/// artifacts/, so it never shares obj/ with the build that is running the tests. On a clean
/// clone it compiles everything; afterwards MSBuild's incremental build makes it a few seconds.
/// </remarks>
public sealed class NativeModuleFixture : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _compiled = new();

    /// <summary>The folder with darksidesync.so and dss.lua.</summary>
    public string ModuleDirectory { get; } = Path.Combine(RepositoryPaths.Artifacts, "native-tests", "module");

    /// <summary>Where C files compiled for the specs go.</summary>
    public string CompiledDirectory { get; } = Path.Combine(RepositoryPaths.Artifacts, "native-tests", "c");

    public string ModulePath => Path.Combine(ModuleDirectory, "darksidesync.so");

    public async Task InitializeAsync()
    {
        var result = await ChildProcess.RunAsync(
            NestedDotnet.Host(),
            [
                "publish", RepositoryPaths.NativeProject,
                "-c", "Release",
                "-o", ModuleDirectory,
                "--artifacts-path", Path.Combine(RepositoryPaths.Artifacts, "native-tests", "build"),
                "-nologo",
            ],
            PublishTimeout,
            NestedDotnet.OuterBuildVariablesRemoved());
        if (result.TimedOut || result.ExitCode != 0 || !File.Exists(ModulePath))
        {
            throw new InvalidOperationException("Publishing darksidesync.so failed:\n" + result);
        }
        Directory.CreateDirectory(CompiledDirectory);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// Compiles C sources (paths relative to the repository root) once per run into a Lua C
    /// module <c>name.so</c> (loaded from lua5.4 with <c>require "name"</c>); returns its path.
    /// </summary>
    public Task<string> CompileModuleAsync(string name, params string[] sources) =>
        CompileOnceAsync(name + ".so", sources, CCompiler.Output.LuaModule);

    /// <summary>Compiles C sources into an executable that embeds the host's liblua5.4; returns its path.</summary>
    public Task<string> CompileExecutableAsync(string name, params string[] sources) =>
        CompileOnceAsync(name, sources, CCompiler.Output.Executable);

    private Task<string> CompileOnceAsync(string fileName, string[] sources, CCompiler.Output kind) =>
        _compiled.GetOrAdd(fileName, _ => new Lazy<Task<string>>(() =>
            CCompiler.CompileAsync(Path.Combine(CompiledDirectory, fileName), kind, sources.Select(RepositoryPaths.Of)))).Value;
}
