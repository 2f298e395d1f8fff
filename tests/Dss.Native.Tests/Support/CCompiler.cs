namespace DarkSideSync.Native.Tests.Support;

/// <summary>gcc, with Debian's Lua 5.4 headers and the DSS header on the include path.</summary>
public static class CCompiler
{
    public enum Output
    {
        /// <summary>A shared object for lua5.4's require. Lua's symbols stay undefined: the host provides them.</summary>
        LuaModule,

        /// <summary>A program that hosts Lua itself, linked against Debian's liblua5.4.so.</summary>
        Executable,
    }

    private const string LuaIncludeDirectory = "/usr/include/lua5.4";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Compiles <paramref name="sources"/> into <paramref name="outputPath"/>; fails with gcc's messages.</summary>
    public static async Task<string> CompileAsync(string outputPath, Output kind, IEnumerable<string> sources)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
        List<string> arguments =
        [
            "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pthread",
            "-I", LuaIncludeDirectory,
            "-I", RepositoryPaths.HeaderDirectory,
            "-o", outputPath,
        ];
        if (kind == Output.LuaModule)
        {
            arguments.InsertRange(0, ["-shared", "-fPIC"]);
        }
        arguments.AddRange(sources);
        if (kind == Output.Executable)
        {
            // Debian's liblua5.4.so: darksidesync.so binds to its symbols when the program loads it.
            arguments.AddRange(["-llua5.4", "-lm", "-ldl"]);
        }

        var result = await ChildProcess.RunAsync("gcc", arguments, Timeout);
        if (result.TimedOut || result.ExitCode != 0)
        {
            throw new InvalidOperationException("gcc failed:\n" + result);
        }
        return outputPath;
    }
}
