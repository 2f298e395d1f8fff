namespace DarkSideSync.Hosting.Akka.Tests.Support;

/// <summary>A temporary folder of Lua scripts for one test; deleted with it.</summary>
public sealed class ScriptFolder : IDisposable
{
    public ScriptFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dss-akka-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="name"/> (e.g. "pricing.lua") and returns the name.</summary>
    public string Write(string name, string lua)
    {
        File.WriteAllText(System.IO.Path.Combine(Path, name), lua);
        return name;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A test that failed may still hold a file; the temp folder is cleaned some day.
        }
    }
}
