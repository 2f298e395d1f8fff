namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// A fact that xunit reports as skipped, with the reason, on a machine without Copas
/// (Debian's lua-copas is not among the prerequisites). Decided when tests are discovered,
/// by looking where copas_loop.lua looks: Lua 5.4's default path, then Debian's 5.2 folder.
/// </summary>
public sealed class CSampleCopasFactAttribute : FactAttribute
{
    private static readonly string[] Locations =
    [
        "/usr/local/share/lua/5.4/copas.lua",
        "/usr/share/lua/5.4/copas.lua",
        "/usr/share/lua/5.2/copas.lua",
    ];

    public CSampleCopasFactAttribute()
    {
        if (!Locations.Any(File.Exists))
        {
            Skip = "lua-copas is not installed (apt-get install lua-copas); copas_loop.lua has nothing to run on";
        }
    }
}
