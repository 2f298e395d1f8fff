using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace DarkSideSync.Hosting.Akka.Tests;

/// <summary>
/// The NuGet packages as a user gets them: dotnet pack of DarkSideSync, DarkSideSync.Hosting and
/// DarkSideSync.Hosting.Akka into a folder feed (built apart from the solution's own output), the
/// native helpers under runtimes/linux-x64/native, then a throwaway console project that adds
/// the package from that feed, calls a Lua function through a pool and exits 0.
/// </summary>
[Trait("Category", "Package")]
public sealed class PackageSpec : IDisposable
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(4);
    private readonly string _work = Path.Combine(Path.GetTempPath(), "dss-package-" + Guid.NewGuid().ToString("N")[..8]);

    public PackageSpec() => Directory.CreateDirectory(_work);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // A process that was killed may still hold a file; the temp folder is cleaned some day.
        }
    }

    private static string RepositoryRoot()
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName; // tests/<project>/bin/<configuration>/<framework>
    }

    /// <summary>Runs dotnet with <paramref name="arguments"/> in <paramref name="directory"/>; fails with its output unless it exits 0.</summary>
    private async Task<string> Dotnet(string directory, IDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(StepLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} took longer than {StepLimit}:\n{output}");
        }
        process.WaitForExit();
        string text;
        lock (output)
        {
            text = output.ToString();
        }
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{text}");
        return text;
    }

    [Fact]
    public async Task A_throwaway_project_restores_the_packages_from_a_folder_feed_and_calls_lua_through_a_pool()
    {
        string root = RepositoryRoot(), feed = Path.Combine(_work, "feed"), artifacts = Path.Combine(_work, "artifacts");
        var none = new Dictionary<string, string>();
        foreach (string library in new[] { "src/Dss.Actors", "src/Dss.Hosting", "src/Dss.Hosting.Akka" })
        {
            // Its own artifacts folder: nothing of the solution's bin/ and obj/ is touched.
            await Dotnet(root, none, "pack", library, "-c", "Release", "-o", feed, "-p:UseArtifactsOutput=true", $"-p:ArtifactsPath={artifacts}");
        }
        foreach (var (package, native) in new[]
        {
            ("DarkSideSync.1.1.0.nupkg", "runtimes/linux-x64/native/libdarksidesync_hooks.so"),
            ("DarkSideSync.Hosting.1.1.0.nupkg", "runtimes/linux-x64/native/libdss_budget.so"),
            ("DarkSideSync.Hosting.Akka.1.1.0.nupkg", null),
        })
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, package));
            var names = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("PACKAGE.md", names);
            if (native is not null)
            {
                Assert.Contains(native, names);
            }
            Assert.True(File.Exists(Path.Combine(feed, Path.ChangeExtension(package, ".snupkg"))), $"no symbols package for {package}");
        }

        // A package cache of its own, so the packages come from the feed; what they depend on
        // (Akka, KeraLua) from the machine's cache when it has them, else from the usual sources.
        string app = Path.Combine(_work, "app");
        string cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_work, "packages") };
        await Dotnet(_work, environment, "new", "console", "-o", app, "--framework", "net10.0");
        if (Directory.Exists(cache))
        {
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <fallbackPackageFolders><add key="machine" value="{cache}" /></fallbackPackageFolders>
                </configuration>
                """);
        }
        await Dotnet(app, environment, "add", "package", "DarkSideSync.Hosting", "--version", "1.1.0", "--source", feed);
        await File.WriteAllTextAsync(Path.Combine(app, "scripts.lua"), "function add(a, b) return a + b end\n");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using Akka.Actor;
            using DarkSideSync.Hosting;

            var system = ActorSystem.Create("package-check");
            var options = new LuaPoolOptions
            {
                Size = 2,
                State = new LuaStateOptions { StartupScripts = [Path.Combine(AppContext.BaseDirectory, "scripts.lua")], CallBudget = TimeSpan.FromMilliseconds(100) },
            };
            await using (var pool = await LuaPool.StartAsync(system, options, "check"))
            {
                Console.WriteLine($"add = {await pool.CallAsync<long>("add", [2, 3])}");
            }
            await system.Terminate();
            """);
        string csproj = Path.Combine(app, "app.csproj");
        string project = await File.ReadAllTextAsync(csproj);
        await File.WriteAllTextAsync(csproj, project.Replace("</Project>", """
              <ItemGroup><None Update="scripts.lua" CopyToOutputDirectory="PreserveNewest" /></ItemGroup>
            </Project>
            """, StringComparison.Ordinal));

        string output = await Dotnet(app, environment, "run");
        Assert.Contains("add = 5", output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_work, "packages", "darksidesync.hosting", "1.1.0")), "DarkSideSync.Hosting was not restored from the feed");
    }
}
