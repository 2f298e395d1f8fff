namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// What a <c>dotnet</c> build started from a spec (the fixture's publish, LuaRocks' build of the
/// rock) needs: the SDK that runs the tests, without the variables of the outer build.
/// </summary>
public static class NestedDotnet
{
    /// <summary>The dotnet that runs the tests (DOTNET_HOST_PATH under <c>dotnet test</c>), else the one on PATH.</summary>
    public static string Host() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// The test host runs under <c>dotnet test</c>, whose MSBuild variables would point a nested
    /// build at the outer build's SDK state: they are removed (null values) for the child.
    /// </summary>
    public static Dictionary<string, string?> OuterBuildVariablesRemoved()
    {
        var removed = new Dictionary<string, string?>();
        foreach (string name in Environment.GetEnvironmentVariables().Keys)
        {
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) ||
                name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                name.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                removed[name] = null;
            }
        }
        return removed;
    }
}
