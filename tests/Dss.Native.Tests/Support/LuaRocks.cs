namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Debian's <c>luarocks</c> for Lua 5.4 on one tree (<c>--tree</c>), run from the repository
/// root as a user runs it, with darksidesync-dev-1.rockspec building into
/// <see cref="BuildDirectory"/> (DARKSIDESYNC_ROCK_BUILD).
/// </summary>
public sealed class LuaRocks(string tree, string buildDirectory)
{
    public const string Program = "luarocks";

    public const string Rock = "darksidesync";

    /// <summary>A first make is a full NativeAOT publish: minutes on a small machine.</summary>
    private static readonly TimeSpan MakeTimeout = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Whether <c>luarocks</c> is on PATH.</summary>
    public static bool IsInstalled { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, Program)));

    public string Tree { get; } = tree;

    /// <summary>Where the rock's build puts the publish: module/ (its output) and build/ (obj, bin).</summary>
    public string BuildDirectory { get; } = buildDirectory;

    /// <summary>The folder the publish left for the install step: darksidesync.so and the .lua files.</summary>
    public string PublishedDirectory => Path.Combine(BuildDirectory, "module");

    /// <summary>The tree's folder for C modules (<c>lib/lua/5.4</c>), where darksidesync.so is deployed.</summary>
    public string CModuleDirectory => Path.Combine(Tree, "lib", "lua", "5.4");

    /// <summary>The tree's folder for Lua modules (<c>share/lua/5.4</c>).</summary>
    public string LuaModuleDirectory => Path.Combine(Tree, "share", "lua", "5.4");

    /// <summary><c>luarocks make</c>: builds darksidesync.so and installs the rock into the tree.</summary>
    public Task<ProcessResult> MakeAsync() => RunAsync(MakeTimeout, "make");

    /// <summary><c>luarocks remove darksidesync</c>.</summary>
    public Task<ProcessResult> RemoveAsync() => RunAsync(QueryTimeout, "remove", Rock);

    /// <summary><c>luarocks list --porcelain</c>: one line per installed rock.</summary>
    public Task<ProcessResult> ListAsync() => RunAsync(QueryTimeout, "list", "--porcelain");

    /// <summary><c>luarocks show --rock-dir darksidesync</c>: the rock's own folder in the tree.</summary>
    public async Task<string> RockDirectoryAsync() =>
        (await RunAsync(QueryTimeout, "show", "--rock-dir", Rock)).AssertSucceeded().Lines.Single().Trim();

    /// <summary>
    /// The variables <c>eval "$(luarocks path)"</c> would set (LUA_PATH, LUA_CPATH), read from
    /// its <c>export NAME='value'</c> lines.
    /// </summary>
    public async Task<Dictionary<string, string>> PathVariablesAsync()
    {
        var result = (await RunAsync(QueryTimeout, "path", "--no-bin")).AssertSucceeded();
        var variables = new Dictionary<string, string>();
        foreach (string line in result.Lines)
        {
            const string export = "export ";
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(line.StartsWith(export, StringComparison.Ordinal) && equals > 0, $"not an export line: {line}\n{result}");
            string value = line[(equals + 1)..].Trim();
            Assert.True(value.Length >= 2 && value[0] == '\'' && value[^1] == '\'', $"not a quoted value: {line}\n{result}");
            variables[line[export.Length..equals]] = value[1..^1];
        }
        return variables;
    }

    private Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] command) =>
        ChildProcess.RunAsync(Program, ["--lua-version", "5.4", .. command, "--tree", Tree], timeout, Variables());

    // The build step runs `dotnet publish`: the tests' own dotnet first on PATH, none of the
    // outer build's variables, and the rock's build folder instead of artifacts/luarocks.
    private Dictionary<string, string?> Variables()
    {
        var variables = NestedDotnet.OuterBuildVariablesRemoved();
        variables["DARKSIDESYNC_ROCK_BUILD"] = BuildDirectory;
        if (Path.GetDirectoryName(NestedDotnet.Host()) is { Length: > 0 } dotnetDirectory)
        {
            variables["PATH"] = dotnetDirectory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        }
        return variables;
    }
}
