using Akka.Actor;
using DarkSideSync.Actors;
using KeraLua;

namespace DarkSideSync.Sample;

/// <summary>
/// An actor that, a while into the run, asks Lua for a progress report through DSS's actor
/// API: it Asks its utility's actor with <see cref="UtilityActor.Request{TResult}"/>. Lua answers in the
/// global function <c>on_audit(reply)</c>.
/// </summary>
internal static class Auditor
{
    private static readonly object LibraryId = new();

    /// <summary>Lua thread, after <c>require "darksidesync"</c>: registers the auditor with DSS and starts its actor.</summary>
    public static IActorRef Start(Lua lua, ActorSystem system, TimeSpan after)
    {
        var status = DssUtility.Register(lua.Handle, LibraryId, static u => u.Unregister(), out var utility);
        if (status != DssStatus.Success)
        {
            throw new InvalidOperationException($"DSS refused the auditor: {status}.");
        }
        var luaUtility = utility!.Actor;
        return system.ActorOf(Props.Create(() => new AuditorActor(luaUtility, after)), "auditor");
    }
}

internal sealed class AuditorActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private readonly IActorRef _luaUtility; // the utility's actor: the way into Lua for actors
    private readonly TimeSpan _after;

    public AuditorActor(IActorRef luaUtility, TimeSpan after)
    {
        _luaUtility = luaUtility;
        _after = after;
        Receive<Audit>(_ => ReceiveAudit());
        Receive<Report>(report => Story.Tell("auditor", report.Text));
    }

    public ITimerScheduler Timers { get; set; } = null!; // set by Akka before PreStart

    protected override void PreStart() => Timers.StartSingleTimer(Audit.Instance, Audit.Instance, _after);

    private void ReceiveAudit()
    {
        Story.Tell("auditor", "asking Lua for a progress report");
        // The answer comes back as a message, so the actor never blocks on Lua.
        _luaUtility
            .Ask<UtilityActor.Answered<string?>>(new UtilityActor.Request<string?>(PushOnAudit, ReadReport, Patience), Patience + Patience)
            .PipeTo(
                Self,
                success: answered => new Report($"Lua reports: {answered.Value ?? "nothing"}"),
                failure: e => new Report($"no report from Lua ({e.GetType().Name})"));
    }

    // Lua thread, inside poll(): the function to call; DSS adds the reply callback as its argument.
    private static int PushOnAudit(LuaStack stack)
    {
        var lua = Lua.FromIntPtr(stack.State);
        if (lua.GetGlobal("on_audit") != KeraLua.LuaType.Function)
        {
            lua.Pop(1);
            return 0; // nothing to ask: the request completes without an answer
        }
        return 1;
    }

    // Lua thread, when Lua calls reply(text).
    private static string? ReadReport(LuaStack stack, bool garbage) => garbage ? null : stack.ToStringAt(1);

    private sealed record Audit
    {
        public static readonly Audit Instance = new();

        private Audit()
        {
        }
    }

    private sealed record Report(string Text);
}
