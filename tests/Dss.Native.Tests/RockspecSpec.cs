using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// darksidesync-dev-1.rockspec under Debian's luarocks: <c>luarocks --lua-version 5.4 make
/// --tree DIR</c> from the repository root builds darksidesync.so and installs it, the Lua
/// modules of the publish and the C header where a LuaRocks user finds them.
/// </summary>
[Collection(LuaRocksCollection.Name)]
public sealed class RockspecSpec(RockTreeFixture rock)
{
    private static readonly TimeSpan LuaTimeout = TimeSpan.FromSeconds(30);

    [LuaRocksFact]
    public async Task Stock_lua_must_load_both_modules_from_the_tree_with_the_paths_luarocks_path_prints()
    {
        var tree = rock.AssertInstalled();
        var paths = await tree.PathVariablesAsync();

        var result = await RunLuaAsync(paths, """
            local darksidesync = require "darksidesync"
            local dss = require "dss"
            print(package.searchpath("darksidesync", package.cpath))
            print(package.searchpath("dss", package.path))
            print(darksidesync.queuesize(), type(dss.getsocket), type(dss.gethandler))
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal(Path.Combine(tree.CModuleDirectory, "darksidesync.so"), lines[0]);
        Assert.Equal(Path.Combine(tree.LuaModuleDirectory, "dss.lua"), lines[1]);
        Assert.Equal("0\tfunction\tfunction", lines[2]);
    }

    [LuaRocksFact]
    public void Make_must_install_every_lua_file_of_the_publish_with_its_subfolders()
    {
        var tree = rock.AssertInstalled();

        var published = LuaFilesUnder(tree.PublishedDirectory);
        var installed = LuaFilesUnder(tree.LuaModuleDirectory);

        Assert.Contains("dss.lua", published);
        Assert.Equal(published, installed);
        Assert.Equal(["darksidesync.so"], Directory.GetFiles(tree.CModuleDirectory).Select(Path.GetFileName));
    }

    [LuaRocksFact]
    public async Task The_C_header_must_be_in_the_include_folder_of_the_rock_directory_that_luarocks_show_prints()
    {
        var tree = rock.AssertInstalled();
        string include = Path.Combine(await tree.RockDirectoryAsync(), "include");

        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.HeaderDirectory, "darksidesync_api.h")),
            await File.ReadAllTextAsync(Path.Combine(include, "darksidesync_api.h")));
        await CompilesAgainstAsync(include, """
            #include <darksidesync_api.h>
            DSS_LIB_DEFINE(spec_utility, "spec_utility");
            int luaopen_spec_utility(lua_State *L) { (void)L; return 0; }
            """);
    }

    [LuaRocksFact]
    public async Task A_second_make_must_reinstall_the_rock_and_remove_must_take_all_of_it()
    {
        rock.AssertInstalled(); // the build folder holds a publish already: these makes are incremental
        var tree = rock.NewTree("reinstalled");

        (await tree.MakeAsync()).AssertSucceeded();
        (await tree.MakeAsync()).AssertSucceeded();
        Assert.Equal([$"{LuaRocks.Rock}\tdev-1\tinstalled"], await InstalledRocksAsync(tree));
        (await tree.RemoveAsync()).AssertSucceeded();

        Assert.Empty(await InstalledRocksAsync(tree));
        Assert.Equal(["lib/luarocks/rocks-5.4/manifest"], FilesUnder(tree.Tree)); // the tree's empty manifest
    }

    // luarocks list --porcelain: name, version, status and tree, tab-separated.
    private static async Task<List<string>> InstalledRocksAsync(LuaRocks tree) =>
        (await tree.ListAsync()).AssertSucceeded().Lines.Select(line => string.Join('\t', line.Split('\t').Take(3))).ToList();

    private async Task<ProcessResult> RunLuaAsync(Dictionary<string, string> paths, string script)
    {
        string path = Path.Combine(rock.Root, $"spec-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(path, script);
        var variables = new Dictionary<string, string?>
        {
            ["LUA_PATH"] = paths["LUA_PATH"],
            ["LUA_CPATH"] = paths["LUA_CPATH"],
            ["LUA_INIT"] = null,
            ["LUA_PATH_5_4"] = null,
            ["LUA_CPATH_5_4"] = null,
            ["LUA_INIT_5_4"] = null,
            ["DARKSIDESYNC_CONFIG"] = null,
        };
        return await ChildProcess.RunAsync(LuaProcess.Interpreter, [path], LuaTimeout, variables, workingDirectory: rock.Root);
    }

    private async Task CompilesAgainstAsync(string includeDirectory, string source)
    {
        string path = Path.Combine(rock.Root, $"utility-{Guid.NewGuid():N}.c");
        await File.WriteAllTextAsync(path, source);
        (await ChildProcess.RunAsync(
            "gcc", ["-fsyntax-only", "-std=c11", "-Wall", "-Werror", "-I", "/usr/include/lua5.4", "-I", includeDirectory, path],
            LuaTimeout)).AssertSucceeded();
    }

    private static List<string> LuaFilesUnder(string directory) =>
        FilesUnder(directory).Where(file => file.EndsWith(".lua", StringComparison.Ordinal)).ToList();

    private static List<string> FilesUnder(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
}
