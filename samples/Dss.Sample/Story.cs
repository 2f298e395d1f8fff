namespace DarkSideSync.Sample;

/// <summary>One line of the sample's output: who did it, what happened. Lua's print uses the same layout.</summary>
internal static class Story
{
    // Console.WriteLine is thread-safe and each line is flushed whole, so lines from the Lua
    // thread, the workers and the actors interleave without tearing.
    public static void Tell(string who, string what) => Console.WriteLine($"{who,-9}| {what}");
}
