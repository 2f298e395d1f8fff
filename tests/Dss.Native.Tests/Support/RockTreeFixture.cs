namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Shared by the specs of the <see cref="LuaRocksCollection"/>: runs
/// <c>luarocks --lua-version 5.4 make --tree</c> once per test run, into a tree in a fresh
/// temporary folder, which it deletes at the end.
/// </summary>
/// <remarks>
/// The rock's build folder is artifacts/luarocks-tests: apart from the native fixture's
/// publish (artifacts/native-tests) and from a developer's `luarocks make`
/// (artifacts/luarocks), and kept between runs, so only a clean clone pays the full NativeAOT
/// compile (a couple of minutes); afterwards the publish is incremental.
/// </remarks>
public sealed class RockTreeFixture : IAsyncLifetime
{
    /// <summary>The temporary folder holding the trees (and the scripts' working folder).</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"dss-rock-{Guid.NewGuid():N}");

    public string BuildDirectory { get; } = Path.Combine(RepositoryPaths.Artifacts, "luarocks-tests");

    /// <summary>The tree the rock was made into.</summary>
    public LuaRocks Installed { get; private set; } = null!;

    /// <summary>What <c>luarocks make</c> said; null when luarocks is not installed (the specs skip).</summary>
    public ProcessResult? Make { get; private set; }

    /// <summary>A further, empty tree that shares the build folder.</summary>
    public LuaRocks NewTree(string name) => new(Path.Combine(Root, name), BuildDirectory);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        Installed = NewTree("tree");
        if (LuaRocks.IsInstalled)
        {
            Make = await Installed.MakeAsync();
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The tree the rock was made into; fails the spec with luarocks' output when the make failed.</summary>
    public LuaRocks AssertInstalled()
    {
        Assert.NotNull(Make);
        Make.AssertSucceeded();
        return Installed;
    }
}
