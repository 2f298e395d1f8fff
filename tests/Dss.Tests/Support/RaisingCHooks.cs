using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A real C utility's hooks (<c>c/raising_hooks.c</c>, copied next to the test assembly),
/// compiled by gcc when first needed: decode and ret functions that raise Lua errors with
/// <c>luaL_error</c>, a decode that pushes <c>on_item(pData)</c>, a quiet ret, and counters of
/// every call. Linked against KeraLua's own <c>liblua54.so</c> (next to
/// the test assembly) with Debian's Lua 5.4 headers, which match its ABI.
/// </summary>
/// <remarks>
/// <see cref="LoadSecondInstance"/> builds the same source under another file name, so the
/// loader maps a second instance with counters of its own: for specs that run in parallel
/// with RaisingCHookSpec, which checks the first instance's counters exactly.
/// </remarks>
internal sealed unsafe class RaisingCHooks
{
    /// <summary>Counter indices of <c>hooks_count</c>.</summary>
    public const int Decodes = 0, NullDecodes = 1, Rets = 2, NullRets = 3, GarbageRets = 4, Pushes = 5;

    private static readonly Lazy<RaisingCHooks> Instance = new(() => Build("raising_hooks"));
    private static readonly Lazy<RaisingCHooks> SecondInstance = new(() => Build("raising_hooks_second"));

    private readonly delegate* unmanaged[Cdecl]<int, int> _count;
    private readonly delegate* unmanaged[Cdecl]<void> _reset;

    private RaisingCHooks(nint library)
    {
        RaisingDecode = NativeLibrary.GetExport(library, "raising_decode");
        PushingDecode = NativeLibrary.GetExport(library, "pushing_decode");
        RaisingRet = NativeLibrary.GetExport(library, "raising_ret");
        QuietRet = NativeLibrary.GetExport(library, "quiet_ret");
        _count = (delegate* unmanaged[Cdecl]<int, int>)NativeLibrary.GetExport(library, "hooks_count");
        _reset = (delegate* unmanaged[Cdecl]<void>)NativeLibrary.GetExport(library, "hooks_reset");
    }

    public static RaisingCHooks Load() => Instance.Value;

    /// <summary>An instance of its own (see the remarks); the first caller compiles it.</summary>
    public static RaisingCHooks LoadSecondInstance() => SecondInstance.Value;

    public nint RaisingDecode { get; }

    public nint PushingDecode { get; }

    public nint RaisingRet { get; }

    public nint QuietRet { get; }

    public int Count(int which) => _count(which);

    public void ResetCounts() => _reset();

    private static RaisingCHooks Build(string name)
    {
        string luaDirectory = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        if (!File.Exists(Path.Combine(luaDirectory, "liblua54.so")))
        {
            throw new InvalidOperationException($"KeraLua's liblua54.so is not in {luaDirectory}.");
        }
        string source = Path.Combine(AppContext.BaseDirectory, "c", "raising_hooks.c");
        if (!File.Exists(source))
        {
            throw new InvalidOperationException($"{source} is missing: Dss.Tests.csproj copies c/raising_hooks.c to the output.");
        }
        string directory = Directory.CreateTempSubdirectory($"dss-{name}-").FullName;
        string library = Path.Combine(directory, $"lib{name}.so");
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
            throw new InvalidOperationException("gcc failed to build the raising hooks (is gcc installed? scripts/install-prerequisites.sh):\n" + errors);
        }
        return new RaisingCHooks(NativeLibrary.Load(library));
    }
}
