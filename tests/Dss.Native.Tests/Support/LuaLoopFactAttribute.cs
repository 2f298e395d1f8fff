namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Which Debian package brings each event loop the loop integrations (src/Dss.Native/dss/)
/// are specified with, and whether it is installed: decided when tests are discovered, by
/// looking where lua5.4 looks (its default paths; Copas also in Debian's 5.2 folder, where
/// lua-copas installs and where the specs' scripts fall back to, as copas_loop.lua does).
/// </summary>
public static class LuaLoops
{
    private static readonly string[] CModuleDirectories =
        ["/usr/local/lib/lua/5.4", "/usr/lib/x86_64-linux-gnu/lua/5.4", "/usr/lib/lua/5.4"];

    private static readonly string[] LuaDirectories = ["/usr/local/share/lua/5.4", "/usr/share/lua/5.4"];

    /// <summary>The reason to skip a spec of <paramref name="loop"/> (luv, cqueues, copas), or null when it can run.</summary>
    public static string? Missing(string loop) => loop switch
    {
        "luv" => CModuleDirectories.Any(dir => File.Exists(Path.Combine(dir, "luv.so")))
            ? null : "lua-luv is not installed (apt-get install lua-luv)",
        "cqueues" => LuaDirectories.Any(dir => File.Exists(Path.Combine(dir, "cqueues.lua")))
            ? null : "lua-cqueues is not installed (apt-get install lua-cqueues)",
        "copas" => LuaDirectories.Append("/usr/share/lua/5.2").Any(dir => File.Exists(Path.Combine(dir, "copas.lua")))
            ? null : "lua-copas is not installed (apt-get install lua-copas)",
        _ => null,
    };

    /// <summary>
    /// Lua that loads Copas as <c>copas</c>: from lua5.4's own paths, else from Debian's
    /// lua-copas folder for 5.2 (Copas 1.x is pure Lua and runs unchanged on 5.4).
    /// </summary>
    public const string RequireCopas = """
        local copas
        do
          local ok, loaded = pcall(require, "copas")
          if not ok then
            package.path = package.path .. ";/usr/share/lua/5.2/?.lua"
            loaded = require "copas"
          end
          copas = loaded
        end

        """;
}

/// <summary>A fact that xunit reports as skipped, with the reason, when the Debian package of its event loop is missing.</summary>
public sealed class LuaLoopFactAttribute : FactAttribute
{
    public LuaLoopFactAttribute(params string[] loops)
    {
        if (loops.Select(LuaLoops.Missing).FirstOrDefault(reason => reason is not null) is { } reason)
        {
            Skip = reason;
        }
    }
}
