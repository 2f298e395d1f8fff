namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Runs a Lua script in a fresh stock <c>lua5.4</c>, with the published module (and any
/// compiled C modules) on <c>package.cpath</c> and dss.lua on <c>package.path</c>.
/// </summary>
public sealed class LuaProcess(NativeModuleFixture module)
{
    public const string Interpreter = "lua5.4";

    private const string ConfigVariable = "DARKSIDESYNC_CONFIG";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Extra variables for the process (DARKSIDESYNC_CONFIG, say); null removes one.</summary>
    public Dictionary<string, string?> Environment { get; } = [];

    /// <summary>Folders of C modules besides darksidesync.so (compiled utilities).</summary>
    public List<string> ModuleDirectories { get; } = [];

    /// <summary>How long the script may run before it is killed and the spec fails.</summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>Compiles (once per run) a C module from sources relative to the repository root and puts it on the cpath.</summary>
    public async Task AddCModuleAsync(string name, params string[] sources)
    {
        string path = await module.CompileModuleAsync(name, sources);
        ModuleDirectories.Add(Path.GetDirectoryName(path)!);
    }

    /// <summary>Has the module read <paramref name="hocon"/> as its DARKSIDESYNC_CONFIG file.</summary>
    public void UseConfig(string hocon)
    {
        string path = Path.Combine(module.CompiledDirectory, $"config-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, hocon);
        Environment[ConfigVariable] = path;
    }

    /// <summary>Runs <paramref name="script"/> (Lua source) with <paramref name="arguments"/> in <c>arg</c>.</summary>
    public async Task<ProcessResult> RunAsync(string script, params string[] arguments)
    {
        string path = Path.Combine(Path.GetTempPath(), $"dss-spec-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(path, script);
        try
        {
            return await ChildProcess.RunAsync(Interpreter, [path, .. arguments], Timeout, Variables());
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs <c>lua5.4 -e chunk</c>.</summary>
    public Task<ProcessResult> RunChunkAsync(string chunk) =>
        ChildProcess.RunAsync(Interpreter, ["-e", chunk], Timeout, Variables());

    private Dictionary<string, string?> Variables()
    {
        // ";;" appends Lua's default paths, where Debian's LuaSocket lives.
        var cpath = ModuleDirectories.Prepend(module.ModuleDirectory).Select(dir => Path.Combine(dir, "?.so"));
        var variables = new Dictionary<string, string?>
        {
            ["LUA_CPATH"] = string.Join(';', cpath) + ";;",
            ["LUA_PATH"] = Path.Combine(module.ModuleDirectory, "?.lua") + ";;",
            ["LUA_INIT"] = null,
            ["LUA_CPATH_5_4"] = null,
            ["LUA_PATH_5_4"] = null,
            ["LUA_INIT_5_4"] = null,
            [ConfigVariable] = null,
        };
        foreach (var (name, value) in Environment)
        {
            variables[name] = value;
        }
        return variables;
    }
}
