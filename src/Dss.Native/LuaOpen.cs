using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkSideSync.Native;

/// <summary>The exports of darksidesync.so: only the Lua module loader.</summary>
internal static class LuaOpen
{
    /// <summary>
    /// <c>require "darksidesync"</c> in the host's Lua: starts DSS for the calling state in the
    /// process's ActorSystem and returns the module table. A failure (a bad configuration file,
    /// say) is raised by <c>require</c> once this frame has returned: no exception and no Lua
    /// error crosses it (neither DssModule method throws).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "luaopen_darksidesync", CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(nint L)
    {
        try
        {
            return DssModule.Open(L, ProcessActorSystem.Get());
        }
        catch (Exception e)
        {
            return DssModule.FailLoad(L, "darksidesync failed to load: " + e.Message);
        }
    }
}
