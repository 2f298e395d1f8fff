using System.Diagnostics;

namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// The C samples of samples/c (dss_producer, dss_workers, dss_signal and the two_states host)
/// and the test-only <c>csample_probe</c>, compiled with gcc once per test process.
/// </summary>
/// <remarks>
/// The flags are those of samples/c/Makefile (which needs make, not among the prerequisites):
/// every .c file of a sample's folder plus common/owners.c. Each test process builds into a
/// folder of its own under artifacts/native-tests/c-samples, so two runs at once never
/// overwrite a .so that the other has loaded; folders of processes that are gone are removed.
/// </remarks>
public sealed class CSampleBuild
{
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(2);

    private static readonly Lazy<Task<CSampleBuild>> Once = new(BuildAsync);

    private static readonly string[] SharedFlags =
    [
        "-O2", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-fPIC", "-pthread",
        "-I", RepositoryPaths.HeaderDirectory,
        "-I", "/usr/include/lua5.4",
        "-I", Path.Combine(SamplesDirectory, "common"),
    ];

    private CSampleBuild(string directory) => OutputDirectory = directory;

    /// <summary>samples/c: the sample sources and their Lua scripts.</summary>
    public static string SamplesDirectory => RepositoryPaths.Of(Path.Combine("samples", "c"));

    /// <summary>The folder with dss_producer.so, dss_workers.so, dss_signal.so, csample_probe.so and two_states.</summary>
    public string OutputDirectory { get; }

    /// <summary>The C host with two Lua states (samples/c/two_states.c).</summary>
    public string TwoStatesHost => Path.Combine(OutputDirectory, "two_states");

    /// <summary>The build of this test process; the first caller compiles.</summary>
    public static Task<CSampleBuild> GetAsync() => Once.Value;

    /// <summary>Puts the compiled samples on <paramref name="lua"/>'s cpath.</summary>
    public static async Task AddToAsync(LuaProcess lua)
    {
        var build = await GetAsync();
        lua.ModuleDirectories.Add(build.OutputDirectory);
    }

    /// <summary>The text of a sample script, e.g. <c>producer_checks.lua</c>.</summary>
    public static string Script(string name) => File.ReadAllText(Path.Combine(SamplesDirectory, name));

    /// <summary>
    /// Runs a program that hosts Lua itself (two_states) with the published darksidesync.so and
    /// the samples on LUA_CPATH; killed after <paramref name="timeout"/>.
    /// </summary>
    public Task<ProcessResult> RunHostAsync(NativeModuleFixture module, string program, TimeSpan timeout) =>
        ChildProcess.RunAsync(program, [], timeout, new Dictionary<string, string?>
        {
            ["LUA_CPATH"] = $"{Path.Combine(module.ModuleDirectory, "?.so")};{Path.Combine(OutputDirectory, "?.so")};;",
            ["LUA_PATH"] = Path.Combine(module.ModuleDirectory, "?.lua") + ";;",
            ["LUA_CPATH_5_4"] = null,
            ["LUA_PATH_5_4"] = null,
            ["LUA_INIT"] = null,
            ["LUA_INIT_5_4"] = null,
            ["DARKSIDESYNC_CONFIG"] = null,
        });

    private static async Task<CSampleBuild> BuildAsync()
    {
        string root = Path.Combine(RepositoryPaths.Artifacts, "native-tests", "c-samples");
        RemoveFoldersOfEndedRuns(root);
        string directory = Path.Combine(root, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);

        await Task.WhenAll(
            CompileAsync(directory, "dss_producer.so", ["-shared"], SampleSources("dss_producer")),
            CompileAsync(directory, "dss_workers.so", ["-shared"], SampleSources("dss_workers")),
            CompileAsync(directory, "dss_signal.so", ["-shared"], SampleSources("dss_signal")),
            CompileAsync(directory, "two_states", [], [Path.Combine(SamplesDirectory, "two_states.c")], ["-llua5.4", "-lm", "-ldl"]),
            CompileAsync(directory, "csample_probe.so", ["-shared"], [RepositoryPaths.Of("tests/Dss.Native.Tests/c/probe.c")]));
        return new CSampleBuild(directory);
    }

    private static IEnumerable<string> SampleSources(string sample) =>
        Directory.GetFiles(Path.Combine(SamplesDirectory, sample), "*.c")
            .Order(StringComparer.Ordinal)
            .Append(Path.Combine(SamplesDirectory, "common", "owners.c"));

    private static async Task CompileAsync(
        string directory, string output, string[] kind, IEnumerable<string> sources, string[]? libraries = null)
    {
        List<string> arguments = [.. kind, .. SharedFlags, "-o", Path.Combine(directory, output), .. sources, .. libraries ?? []];
        var result = await ChildProcess.RunAsync("gcc", arguments, CompileTimeout);
        if (result.TimedOut || result.ExitCode != 0)
        {
            throw new InvalidOperationException($"gcc failed to build {output}:\n{result}");
        }
    }

    // Folders are named <pid>-<guid>: one whose process no longer runs belongs to a run that ended.
    private static void RemoveFoldersOfEndedRuns(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }
        foreach (string folder in Directory.GetDirectories(root))
        {
            string name = Path.GetFileName(folder);
            int dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), out int pid) || IsRunning(pid))
            {
                continue;
            }
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Another run is removing it too; whoever is last wins.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
