using Akka.Actor;
using static DarkSideSync.Actors.DssSupervisor;

namespace DarkSideSync.Actors.Internal;

internal sealed class DssSupervisorActor : ReceiveActor
{
    private readonly List<IActorRef> _utilities = []; // children in registration order

    public DssSupervisorActor() => Running();

    // A utility actor that fails is stopped; its PostStop unregisters the utility, which
    // releases every producer it had blocked.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(Decider.From(Directive.Stop));

    private void Running()
    {
        Receive<AdoptUtility>(ReceiveAdoptUtility);
        Receive<Terminated>(ReceiveUtilityTerminated);
        Receive<StopDss>(_ =>
        {
            var requester = Sender;
            Become(() => Stopping(requester));
            CancelNewestOrFinish(requester);
        });
    }

    private void Stopping(IActorRef requester)
    {
        Receive<Terminated>(t =>
        {
            ReceiveUtilityTerminated(t);
            CancelNewestOrFinish(requester);
        });
        Receive<AdoptUtility>(_ => Sender.Tell(new Status.Failure(new InvalidOperationException("DSS is stopping."))));
        Receive<StopDss>(_ => { });
    }

    private void ReceiveAdoptUtility(AdoptUtility adopt)
    {
        var utility = Context.ActorOf(UtilityActor.Props(adopt.Registration), $"utility-{adopt.Registration.UtilId}");
        Context.Watch(utility);
        _utilities.Add(utility);
        Sender.Tell(new UtilityAdopted(utility));
    }

    private void ReceiveUtilityTerminated(Terminated terminated) => _utilities.Remove(terminated.ActorRef);

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
