using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DarkSideSync.Tests.Support;

/// <summary>A UDP socket bound to 127.0.0.1 on a free port: what Lua would pass to setport.</summary>
internal sealed class UdpListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly byte[] _buffer = new byte[64];

    public UdpListener()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>A port nobody listens on (bound a moment ago, then released).</summary>
    public static int FreePort()
    {
        using var listener = new UdpListener();
        return listener.Port;
    }

    /// <summary>The next datagram's payload as text, or null when none arrives within <paramref name="timeout"/>.</summary>
    public string? Receive(TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead))
        {
            return null;
        }
        int length = _socket.Receive(_buffer);
        return Encoding.ASCII.GetString(_buffer, 0, length);
    }

    /// <summary>The payloads of the next <paramref name="count"/> datagrams; fewer if they stop coming.</summary>
    public List<string> Receive(int count, TimeSpan timeout)
    {
        var payloads = new List<string>();
        while (payloads.Count < count && Receive(timeout) is { } payload)
        {
            payloads.Add(payload);
        }
        return payloads;
    }

    public void Dispose() => _socket.Dispose();
}
