using Akka.Actor;
using DarkSideSync.Engine;
using DarkSideSync.Utilities;
using static DarkSideSync.Actors.UtilityActor;

namespace DarkSideSync.Actors.Internal;

internal sealed class UtilityActorImpl : ReceiveActor
{
    private readonly Registration _registration;
    private readonly DssUtility _utility;

    public UtilityActorImpl(Registration registration)
    {
        _registration = registration;
        _utility = new DssUtility(registration);
        Registered();
    }

    protected override void PreStart() =>
        _registration.WhenUnregistered.PipeTo(Self, success: () => RegistrationEnded.Instance);

    // However this actor ends (stopped by its supervisor, or failed), its utility ends with it.
    protected override void PostStop() => _registration.Unregister(CancelReason.UtilityUnregistered);

    private void Registered()
    {
        Receive<Deliver>(deliver => ReplyOrRefuse(() =>
        {
            ArgumentNullException.ThrowIfNull(deliver.Decode, nameof(Deliver.Decode));
            Sender.Tell(new Delivered(_utility.Deliver(deliver.Decode, static (lua, decode) => decode(lua))));
        }));
        Receive<Request>(request => ReplyOrRefuse(() =>
        {
            ArgumentNullException.ThrowIfNull(request.Decode, nameof(Request.Decode));
            ArgumentNullException.ThrowIfNull(request.Answer, nameof(Request.Answer));
            _utility.DeliverAndWaitAsync(request.Decode, static (lua, decode) => decode(lua), request.Answer.Invoke, request.Timeout)
                .PipeTo(Sender, success: value => new Answered(value), failure: e => new Status.Failure(e));
        }));
        Receive<Cancel>(_ =>
        {
            Become(Cancelling);
            _registration.CancelAndUnregister();
            Context.Stop(Self);
        });
        Receive<RegistrationEnded>(_ => Context.Stop(Self));
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

    private void Cancelling()
    {
        ReceiveAny(_ => { });
    }
}
