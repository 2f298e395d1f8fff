namespace DarkSideSync.Hosting.Calls;

/// <summary>
/// Where a call run on its caller's thread gets its answer: hosting.lua gives it through
/// <c>core.answer</c>, on the caller's thread when the call finished there, or later on the
/// state's thread when it awaited .NET first. Given at most once; never throws.
/// </summary>
internal abstract class InlineAnswer
{
    /// <summary>Where Lua answered: reads the answer (ok at <paramref name="first"/>) off the stack.</summary>
    public abstract void Read(nint L, int first);

    /// <summary>Any thread: no answer will come (the state closed under the call).</summary>
    public abstract void Fail(Exception error);
}

internal sealed class InlineAnswer<TResult> : InlineAnswer
{
    // Asynchronous continuations: an answer given on the state's thread must not run the caller's code there.
    private readonly TaskCompletionSource<CallOutcome<TResult>> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<CallOutcome<TResult>> Outcome => _outcome.Task;

    public override void Read(nint L, int first) => _outcome.TrySetResult(CallOutcome<TResult>.Read(L, first));

    public override void Fail(Exception error) => _outcome.TrySetResult(CallOutcome<TResult>.Failed(error));
}
