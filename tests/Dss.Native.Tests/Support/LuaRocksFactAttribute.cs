namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// A fact that xunit reports as skipped, with the reason, on a machine without
/// <c>luarocks</c> on PATH (scripts/install-prerequisites.sh installs Debian's). Decided when
/// tests are discovered.
/// </summary>
public sealed class LuaRocksFactAttribute : FactAttribute
{
    public LuaRocksFactAttribute()
    {
        if (!LuaRocks.IsInstalled)
        {
            Skip = "luarocks is not installed (apt-get install luarocks, or scripts/install-prerequisites.sh): the rockspec has nothing to run on";
        }
    }
}
