using Akka.Actor;
using Akka.Event;
using DarkSideSync.Actors.Internal;
using DarkSideSync.Engine;
using DarkSideSync.LuaSide;

namespace DarkSideSync.Actors;

/// <summary>
/// The actor of one utility registration, a child of the state's DssSupervisor. It lives
/// exactly as long as the registration: it stops when the utility unregisters, and when it
/// is stopped (cancelled by stop-DSS, or failed) the utility is unregistered.
/// Actors deliver to Lua through it: <see cref="Deliver"/> and <see cref="Request{TResult}"/>, which
/// suits <c>Ask</c> and <c>PipeTo</c>.
/// </summary>
public static class UtilityActor
{
    internal static Props Props(Registration registration) =>
        Akka.Actor.Props.Create(() => new UtilityActorImpl(registration));

    public interface ICommand;

    /// <summary>
    /// Queue a non-blocking delivery; answered with <see cref="Delivered"/> once it is queued or
    /// refused. A full bounded queue makes it wait for room without blocking the actor's thread
    /// (<see cref="DssUtility.DeliverAsync"/>).
    /// </summary>
    /// <param name="Decode">Runs on the Lua thread in poll(): push a function and its arguments, return the count.</param>
    /// <param name="Timeout">How long to wait for room (then <see cref="DssStatus.QueueFull"/>); null: no limit.</param>
    public sealed record Deliver(Func<LuaStack, int> Decode, TimeSpan? Timeout = null) : ICommand;

    /// <summary>The hand-over status of a <see cref="Deliver"/>.</summary>
    public sealed record Delivered(DssStatus Status);

    /// <summary>
    /// Queue a blocking delivery; answered with <see cref="Answered{TResult}"/> once Lua answers,
    /// or with a <see cref="Status.Failure"/> (refused, cancelled, timed out, or a hook threw).
    /// </summary>
    /// <param name="Decode">Runs on the Lua thread in poll()/dispatch(): push a function and its arguments, return the count.</param>
    /// <param name="Answer">Runs on the Lua thread with Lua's answer on the stack (garbage: Lua dropped the callback uncalled); its result is the answer.</param>
    /// <param name="Timeout">Give up after this long, counted from arrival (room in a full bounded queue, then the answer); null waits as long as the utility is registered.</param>
    public sealed record Request<TResult>(Func<LuaStack, int> Decode, Func<LuaStack, bool, TResult> Answer, TimeSpan? Timeout = null) : ICommand, IRequest
    {
        void IRequest.Start(DssUtility utility, IActorRef replyTo)
        {
            ArgumentNullException.ThrowIfNull(Decode, nameof(Decode));
            ArgumentNullException.ThrowIfNull(Answer, nameof(Answer));
            utility.DeliverAndWaitAsync(Decode, static (lua, decode) => decode(lua), Answer.Invoke, Timeout)
                .PipeTo(replyTo, success: value => new Answered<TResult>(value), failure: e => new Status.Failure(e));
        }
    }

    /// <summary>Lua's answer to a <see cref="Request{TResult}"/>.</summary>
    public sealed record Answered<TResult>(TResult Value);

    // What the actor needs of a Request<TResult> whatever its TResult: a request starts itself.
    internal interface IRequest
    {
        /// <summary>Queues the delivery; <paramref name="replyTo"/> gets the answer or the failure. Throws ArgumentException when malformed.</summary>
        void Start(DssUtility utility, IActorRef replyTo);
    }

    /// <summary>From the supervisor during stop-DSS: run the utility's cancel hook, then make sure it is unregistered.</summary>
    /// <remarks>Arrives after the actor stopped when its utility unregistered meanwhile: not worth a dead-letter log line.</remarks>
    internal sealed record Cancel : ICommand, IDeadLetterSuppression
    {
        public static readonly Cancel Instance = new();

        private Cancel()
        {
        }
    }

    // Often arrives after the actor stopped (stop-DSS stops it first): not worth a dead-letter log line.
    internal sealed record RegistrationEnded : IDeadLetterSuppression
    {
        public static readonly RegistrationEnded Instance = new();

        private RegistrationEnded()
        {
        }
    }
}
