namespace DarkSideSync.Native.Tests.Support;

/// <summary>What a finished (or killed) child process left behind.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>Stdout split into lines, without the trailing empty one.</summary>
    public IReadOnlyList<string> Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Fails the test, showing everything the process said, unless it exited 0 in time.</summary>
    public ProcessResult AssertSucceeded()
    {
        Assert.True(!TimedOut && ExitCode == 0, $"expected success:\n{this}");
        return this;
    }

    /// <summary>
    /// As <see cref="AssertSucceeded"/>, but a process killed at its timeout fails with
    /// "deadlocked: <paramref name="what"/>", so a hang reads as the defect it is.
    /// </summary>
    public ProcessResult AssertEnded(string what)
    {
        Assert.False(TimedOut, $"deadlocked: {what} (killed after {Elapsed.TotalSeconds:F0} s)\n{this}");
        return AssertSucceeded();
    }

    /// <summary>Fails the test unless the process ended on its own with a non-zero code (not a signal, not a timeout).</summary>
    public ProcessResult AssertFailedCleanly()
    {
        Assert.True(!TimedOut && ExitCode is > 0 and < 128, $"expected a clean failure (a Lua error):\n{this}");
        return this;
    }

    public override string ToString() =>
        $"$ {Command}\nexit code {ExitCode}{(TimedOut ? " (killed: timed out)" : "")} after {Elapsed.TotalMilliseconds:F0} ms\n" +
        $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
