using Akka.Actor;
using DarkSideSync.Actors.Internal;
using DarkSideSync.Engine;

namespace DarkSideSync.Actors;

/// <summary>
/// One per Lua state while DSS runs there. Every utility registration is a child of it;
/// stopping it is the stop-DSS sequence: children are cancelled newest first, one at a time.
/// </summary>
internal static class DssSupervisor
{
    public static Props Props() => Akka.Actor.Props.Create(() => new DssSupervisorActor());

    public interface ICommand;

    /// <summary>Make <paramref name="Registration"/> a child; answered with <see cref="UtilityAdopted"/>.</summary>
    public sealed record AdoptUtility(Registration Registration) : ICommand;

    public sealed record UtilityAdopted(IActorRef Actor);

    /// <summary>Run stop-DSS; answered with <see cref="DssStopped"/> when every utility is unregistered.</summary>
    public sealed record StopDss : ICommand
    {
        public static readonly StopDss Instance = new();

        private StopDss()
        {
        }
    }

    public sealed record DssStopped
    {
        public static readonly DssStopped Instance = new();

        private DssStopped()
        {
        }
    }
}
