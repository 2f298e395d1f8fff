using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A copy of <c>c/raising_hooks.c</c> (see <see cref="RaisingCHooks"/>) of the dispatch specs'
/// own: compiled by gcc into a folder of its own and loaded from there, so the loader maps a
/// second instance with counters of its own. RaisingCHookSpec runs in parallel with the
/// dispatch specs and checks its counters exactly; sharing one library would break both.
/// </summary>
internal sealed unsafe class DispatchRaisingHooks
{
    private static readonly Lazy<DispatchRaisingHooks> Instance = new(Build);

    private readonly delegate* unmanaged[Cdecl]<int, int> _count;

    private DispatchRaisingHooks(nint library)
    {
        RaisingDecode = NativeLibrary.GetExport(library, "raising_decode");
        PushingDecode = NativeLibrary.GetExport(library, "pushing_decode");
        RaisingRet = NativeLibrary.GetExport(library, "raising_ret");
        QuietRet = NativeLibrary.GetExport(library, "quiet_ret");
        _count = (delegate* unmanaged[Cdecl]<int, int>)NativeLibrary.GetExport(library, "hooks_count");
    }

    /// <summary>The library of this test process; the first caller compiles it.</summary>
    public static DispatchRaisingHooks Load() => Instance.Value;

    /// <summary><c>luaL_error(L, "decode raised %d", pData)</c>.</summary>
    public nint RaisingDecode { get; }

    /// <summary>Pushes <c>on_item(pData)</c>.</summary>
    public nint PushingDecode { get; }

    /// <summary><c>luaL_error(L, "ret raised %d", pData)</c>.</summary>
    public nint RaisingRet { get; }

    public nint QuietRet { get; }

    /// <summary>A counter of <c>hooks_count</c>; the indices are <see cref="RaisingCHooks"/>' constants.</summary>
    public int Count(int which) => _count(which);

    private static DispatchRaisingHooks Build()
    {
        string luaDirectory = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        string source = Path.Combine(AppContext.BaseDirectory, "c", "raising_hooks.c");
        if (!File.Exists(source) || !File.Exists(Path.Combine(luaDirectory, "liblua54.so")))
        {
            throw new InvalidOperationException($"{source} or KeraLua's liblua54.so is missing from the test output.");
        }
        string library = Path.Combine(Directory.CreateTempSubdirectory("dss-dispatch-hooks-").FullName, "libdispatch_raising_hooks.so");
        var gcc = Process.Start(new ProcessStartInfo("gcc")
        {
            ArgumentList =
            {
                "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I/usr/include/lua5.4",
                "-o", library, source, "-L" + luaDirectory, "-l:liblua54.so", "-Wl,-rpath," + luaDirectory,
            },
            RedirectStandardError = true,
        })!;
        string errors = gcc.StandardError.ReadToEnd();
        if (!gcc.WaitForExit(TimeSpan.FromMinutes(1)) || gcc.ExitCode != 0)
        {
            throw new InvalidOperationException("gcc failed to build the dispatch specs' raising hooks:\n" + errors);
        }
        return new DispatchRaisingHooks(NativeLibrary.Load(library));
    }
}
