namespace DarkSideSync.Native.Tests.Support;

/// <summary>Where things are in the repository the tests run from.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding DarkSideSync.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string NativeProject => Path.Combine(Root, "src", "Dss.Native");

    /// <summary>The shared C header of API 1v0 (darksidesync_api.h).</summary>
    public static string HeaderDirectory => Path.Combine(NativeProject, "include");

    /// <summary>Everything the native specs build goes under artifacts/ (ignored by git).</summary>
    public static string Artifacts => Path.Combine(Root, "artifacts");

    /// <summary>A path below the repository root, written with forward slashes.</summary>
    public static string Of(string relativePath) => Path.Combine(Root, relativePath);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DarkSideSync.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("DarkSideSync.sln not found above " + AppContext.BaseDirectory);
    }
}
