using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>What `dotnet publish src/Dss.Native` leaves for a Lua user to install: the module, dss.lua and dss/*.lua (modules dss.luv, dss.cqueues, dss.socket).</summary>
[Collection(NativeCollection.Name)]
public sealed class PublishedModuleSpec(NativeModuleFixture module)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Publish_must_leave_only_the_module_and_the_dss_helper()
    {
        var files = Directory.GetFiles(module.ModuleDirectory).Select(Path.GetFileName).Order();

        Assert.Equal(["darksidesync.so", "dss.lua"], files);
    }

    [Fact]
    public void Publish_must_put_the_loop_integrations_in_a_dss_folder_beside_the_module()
    {
        var folders = Directory.GetDirectories(module.ModuleDirectory).Select(Path.GetFileName);
        var loops = Directory.GetFiles(Path.Combine(module.ModuleDirectory, "dss")).Select(Path.GetFileName).Order();

        Assert.Equal(["dss"], folders);
        Assert.Equal(["cqueues.lua", "luv.lua", "socket.lua"], loops);
    }

    [Fact]
    public async Task The_module_must_not_depend_on_any_liblua()
    {
        var dynamicSection = (await ChildProcess.RunAsync("readelf", ["-d", module.ModulePath], ToolTimeout)).AssertSucceeded();

        var needed = dynamicSection.Lines.Where(line => line.Contains("(NEEDED)", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(needed);
        Assert.DoesNotContain(needed, line => line.Contains("lua", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_module_must_never_be_unloaded()
    {
        var dynamicSection = (await ChildProcess.RunAsync("readelf", ["-d", module.ModulePath], ToolTimeout)).AssertSucceeded();

        Assert.Contains(dynamicSection.Lines, line => line.Contains("FLAGS_1", StringComparison.Ordinal) && line.Contains("NODELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_module_must_export_luaopen_and_leave_the_Lua_API_to_the_host()
    {
        var symbols = (await ChildProcess.RunAsync("nm", ["-D", module.ModulePath], ToolTimeout)).AssertSucceeded();

        Assert.Contains(symbols.Lines, line => line.Contains(" T luaopen_darksidesync", StringComparison.Ordinal));
        Assert.Contains(symbols.Lines, line => line.Trim() == "U lua_pushcclosure");
        Assert.DoesNotContain(symbols.Lines, line => line.Contains(" T lua_", StringComparison.Ordinal));
    }
}
