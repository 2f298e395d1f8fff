using System.Collections.Concurrent;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// Books every delivery a test makes through the C# API and what its hooks did, so a test can
/// check afterwards that each accepted delivery ended exactly once (decoded, answered, or
/// cancelled through the dropped hook) and that no refused one was ever decoded.
/// </summary>
/// <remarks>
/// Decode pushes the Lua global <c>on_tell(id)</c> for a non-blocking delivery and
/// <c>on_ask(answer, id)</c> for a blocking one; Lua's answer is returned as the result.
/// </remarks>
public sealed class DeliveryLedger
{
    private ConcurrentQueue<Entry> _entries = new();
    private List<Entry> _settling = [];              // ended at the last Compact: checked and forgotten at the next
    private readonly List<string> _violations = [];  // found by Compact
    private readonly Totals _forgotten = new();      // what Compact checked and forgot
    private long _lastId;

    /// <summary>How many deliveries were booked.</summary>
    public long Count => Interlocked.Read(ref _lastId);

    /// <summary>Any thread: a non-blocking delivery; returns the hand-over status.</summary>
    public DssStatus Tell(DssUtility utility)
    {
        var entry = NewEntry(blocking: false);
        var status = utility.Deliver(entry, static (lua, e) =>
        {
            Interlocked.Increment(ref e.Decodes);
            KeraLua.Lua.FromIntPtr(lua.State).GetGlobal("on_tell");
            lua.PushInteger(e.Id);
            return 2;
        }, static (e, _) => Interlocked.Increment(ref e.Drops));
        entry.Status = status;
        return status;
    }

    /// <summary>Any thread: a blocking delivery; the task ends with Lua's answer, a cancellation or a refusal.</summary>
    public Task<long> Ask(DssUtility utility, TimeSpan? timeout = null, CancellationToken token = default)
    {
        var entry = NewEntry(blocking: true);
        var task = utility.DeliverAndWaitAsync(
            entry,
            static (lua, e) =>
            {
                Interlocked.Increment(ref e.Decodes);
                KeraLua.Lua.FromIntPtr(lua.State).GetGlobal("on_ask");
                lua.PushInteger(e.Id);
                return 2;
            },
            (lua, garbage) =>
            {
                Interlocked.Increment(ref garbage ? ref entry.Garbage : ref entry.Answers);
                return garbage ? -1 : lua.ToInteger(1) ?? -2;
            },
            timeout,
            token,
            static (e, _) => Interlocked.Increment(ref e.Drops));
        entry.Task = task;
        entry.Status = task.IsFaulted && task.Exception!.InnerException is DssDeliveryRefusedException refused ? refused.Status : DssStatus.Success;
        return task;
    }

    private Entry NewEntry(bool blocking)
    {
        var entry = new Entry(Interlocked.Increment(ref _lastId), blocking);
        _entries.Enqueue(entry);
        return entry;
    }

    /// <summary>How many deliveries were accepted, refused, answered, cancelled.</summary>
    public string Summary()
    {
        var totals = new Totals();
        totals.Add(_forgotten);
        foreach (var e in _settling.Concat(_entries))
        {
            totals.Add(e);
        }
        return $"{Count} deliveries: {totals.Accepted} accepted, {totals.Refused} refused, "
            + $"{totals.Decodes} decoded, {totals.Answers} answered, {totals.Garbage} collected, {totals.Drops} dropped";
    }

    /// <summary>
    /// For long runs, on the only thread that books deliveries: checks and forgets those that
    /// had ended already at the previous call (so a late, duplicated hook call still has time to show).
    /// </summary>
    public void Compact()
    {
        foreach (var e in _settling)
        {
            if (Check(e) is { } problem)
            {
                _violations.Add(Describe(e, problem));
            }
            _forgotten.Add(e);
        }
        _settling = [];
        var entries = _entries;
        _entries = new();
        foreach (var e in entries)
        {
            if (HasEnded(e))
            {
                _settling.Add(e);
            }
            else
            {
                _entries.Enqueue(e);
            }
        }
    }

    /// <summary>The deliveries that broke the rules, described; empty when every one ended exactly once.</summary>
    public List<string> Violations()
    {
        var violations = new List<string>(_violations);
        foreach (var e in _settling.Concat(_entries))
        {
            if (Check(e) is { } problem)
            {
                violations.Add(Describe(e, problem));
            }
        }
        return violations;
    }

    private static string Describe(Entry e, string problem) =>
        $"#{e.Id} ({(e.Blocking ? "blocking" : "non-blocking")}, {e.Status}): {problem} [decodes {e.Decodes}, answers {e.Answers}, garbage {e.Garbage}, drops {e.Drops}]";

    private static bool HasEnded(Entry e) =>
        !e.Status.IsDelivered() || (e.Blocking ? e.Task!.IsCompleted : e.Decodes + e.Drops > 0);

    /// <summary>Fails with the first violations and <paramref name="context"/> (a seed, say).</summary>
    public void AssertEveryDeliveryEndedOnce(string context = "")
    {
        var violations = Violations();
        Assert.True(violations.Count == 0, $"{violations.Count} deliveries broke the rules {context}; {Summary()}:\n  " + string.Join("\n  ", violations.Take(10)));
    }

    private static string? Check(Entry e)
    {
        if (!e.Status.IsDelivered())
        {
            return e.Decodes + e.Drops + e.Answers + e.Garbage == 0 ? null : "refused, yet a hook ran";
        }
        if (!e.Blocking)
        {
            return e.Decodes + e.Drops == 1 ? null : "not ended exactly once";
        }
        var task = e.Task!;
        if (!task.IsCompleted)
        {
            return "its producer is still waiting";
        }
        if (task.IsCompletedSuccessfully)
        {
            return e.Decodes == 1 && e.Drops == 0 && e.Answers + e.Garbage == 1 ? null : "answered, but hooks ran a wrong number of times";
        }
        return task.Exception!.InnerException switch
        {
            DssDeliveryCanceledException { ReachedLua: true } => e.Decodes == 1 && e.Drops == 0 && e.Answers + e.Garbage == 0 ? null : "cancelled after Lua got it, but hooks ran a wrong number of times",
            DssDeliveryCanceledException { ReachedLua: false } => e.Decodes == 0 && e.Drops == 1 ? null : "cancelled before Lua got it, but hooks ran a wrong number of times",
            var other => $"failed with {other?.GetType().Name}: {other?.Message}",
        };
    }

    private sealed class Totals
    {
        public long Accepted, Refused, Decodes, Answers, Garbage, Drops;

        public void Add(Entry e)
        {
            if (e.Status.IsDelivered())
            {
                Accepted++;
            }
            else
            {
                Refused++;
            }
            Decodes += e.Decodes;
            Answers += e.Answers;
            Garbage += e.Garbage;
            Drops += e.Drops;
        }

        public void Add(Totals t)
        {
            Accepted += t.Accepted;
            Refused += t.Refused;
            Decodes += t.Decodes;
            Answers += t.Answers;
            Garbage += t.Garbage;
            Drops += t.Drops;
        }
    }

    private sealed class Entry(long id, bool blocking)
    {
        public readonly long Id = id;
        public readonly bool Blocking = blocking;
        public int Decodes, Drops, Answers, Garbage;
        public DssStatus Status = DssStatus.Success;
        public Task<long>? Task;
    }
}
