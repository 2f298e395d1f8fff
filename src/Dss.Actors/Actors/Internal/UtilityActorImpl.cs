using Akka.Actor;
using DarkSideSync.Engine;
using static DarkSideSync.Actors.UtilityActor;

namespace DarkSideSync.Actors.Internal;

// An UntypedActor with a plain switch, like DssSupervisorActor (no expression trees).
internal sealed class UtilityActorImpl(Registration registration) : UntypedActor
{
    private readonly DssUtility _utility = new(registration);

    protected override void PreStart() =>
        registration.WhenUnregistered.PipeTo(Self, success: () => RegistrationEnded.Instance);

    // However this actor ends (stopped by its supervisor, or failed), its utility ends with it.
    protected override void PostStop() => registration.Unregister(CancelReason.UtilityUnregistered);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Deliver deliver:
                ReplyOrRefuse(() =>
                {
                    ArgumentNullException.ThrowIfNull(deliver.Decode, nameof(Deliver.Decode));
                    var delivered = _utility.DeliverAsync(deliver.Decode, static (lua, decode) => decode(lua), timeout: deliver.Timeout);
                    if (delivered.IsCompletedSuccessfully)
                    {
                        Sender.Tell(new Delivered(delivered.Result)); // the usual case: room, or unbounded
                    }
                    else
                    {
                        // Waiting for room: the actor goes on; the answer comes when it is queued or refused.
                        delivered.AsTask().PipeTo(Sender, success: status => new Delivered(status), failure: e => new Status.Failure(e));
                    }
                });
                break;
            case IRequest request:
                ReplyOrRefuse(() => request.Start(_utility, Sender));
                break;
            case Cancel:
                Become(static _ => { }); // cancelling: nothing else matters any more
                registration.CancelAndUnregister();
                Context.Stop(Self);
                break;
            case RegistrationEnded:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // A malformed command (a null hook, a negative timeout) is the sender's mistake: it gets
    // the error, while the registration and everyone else's deliveries carry on.
    private void ReplyOrRefuse(Action handle)
    {
        try
        {
            handle();
        }
        catch (ArgumentException e)
        {
            Sender.Tell(new Status.Failure(e));
        }
    }
}
