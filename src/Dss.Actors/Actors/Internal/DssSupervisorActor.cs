using Akka.Actor;
using static DarkSideSync.Actors.DssSupervisor;

namespace DarkSideSync.Actors.Internal;

// An UntypedActor with plain switches: no expression trees behind the message handlers, so
// nothing depends on reflection that NativeAOT might trim.
internal sealed class DssSupervisorActor : UntypedActor
{
    private readonly List<IActorRef> _utilities = []; // children in registration order

    // A utility actor that fails is stopped; its PostStop unregisters the utility, which
    // releases every producer it had blocked.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(Decider.From(Directive.Stop));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AdoptUtility adopt:
                Adopt(adopt);
                break;
            case Terminated terminated:
                _utilities.Remove(terminated.ActorRef);
                break;
            case StopDss:
                var requester = Sender;
                Become(m => Stopping(m, requester));
                CancelNewestOrFinish(requester);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Stopping(object message, IActorRef requester)
    {
        switch (message)
        {
            case Terminated terminated:
                _utilities.Remove(terminated.ActorRef);
                CancelNewestOrFinish(requester);
                break;
            case AdoptUtility:
                Sender.Tell(new Status.Failure(new InvalidOperationException("DSS is stopping.")));
                break;
            case StopDss:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Adopt(AdoptUtility adopt)
    {
        var utility = Context.ActorOf(UtilityActor.Props(adopt.Registration), $"utility-{adopt.Registration.UtilId}");
        Context.Watch(utility);
        _utilities.Add(utility);
        Sender.Tell(new UtilityAdopted(utility));
    }

    // One utility at a time, newest first: the next cancel waits for the previous Terminated.
    private void CancelNewestOrFinish(IActorRef requester)
    {
        if (_utilities.Count == 0)
        {
            requester.Tell(DssStopped.Instance);
            Context.Stop(Self);
            return;
        }
        _utilities[^1].Tell(UtilityActor.Cancel.Instance);
    }
}
