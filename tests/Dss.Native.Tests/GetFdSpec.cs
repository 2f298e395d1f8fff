using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// <c>darksidesync.getfd()</c> of DSS 1.1 in stock <c>lua5.4</c>: a descriptor that is readable
/// whenever deliveries are queued (level-triggered: also after a partial <c>dispatch(max)</c>),
/// unreadable once a <c>poll</c>/<c>dispatch</c> leaves the queue empty, one for the life of the
/// state (kept across <c>stop()</c>/<c>start()</c>), non-blocking and close-on-exec, written at
/// most once per change from empty to non-empty, independent of UDP notification. Readability is
/// what <c>socket.select</c> (LuaSocket, select(2)) says with a zero timeout.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class GetFdSpec(NativeModuleFixture module)
{
    private const string NotStarted = "DSS was not started yet, or already stopped";

    private readonly LuaProcess _lua = new(module);

    /// <summary>
    /// <see cref="CSampleLua.Prelude"/>; <c>readable(fd)</c> (select(2) with timeout 0);
    /// <c>fdinfo(fd)</c>, the fields of /proc/self/fdinfo/fd; dss_producer with one producer
    /// <c>u</c> whose callback counts into <c>received</c>.
    /// </summary>
    private const string Prelude = CSampleLua.Prelude + """
        local producer = require "dss_producer"
        local function readable(fd)
          local watched = { getfd = function() return fd end, dirty = function() return false end }
          return socket.select({ watched }, nil, 0)[watched] ~= nil
        end
        local function fdinfo(fd)
          local f = assert(io.open("/proc/self/fdinfo/" .. fd))
          local info = {}
          for line in f:lines() do
            local k, v = line:match("^([%w%-_]+):%s*(.-)%s*$")
            if k then info[k] = v end
          end
          f:close()
          return info
        end
        received = 0
        local u = assert(producer.new{ callback = function() received = received + 1 end })

        """;

    [Fact]
    public async Task The_fd_must_be_unreadable_on_an_empty_queue_and_readable_once_a_delivery_is_queued()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            print(math.type(fd), fd > 2, readable(fd))
            u:deliver(1)
            print(readable(fd))
            print(darksidesync.dispatch())
            print(readable(fd), received)
            """);

        Assert.Equal(["integer\ttrue\tfalse", "true", "1\t0", "false\t1"], result.AssertEnded("getfd on an empty, then a one-item queue").Lines);
    }

    [Fact]
    public async Task The_first_getfd_must_return_a_readable_fd_when_deliveries_are_queued_already()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            u:deliver(2)
            local fd = darksidesync.getfd()
            print(readable(fd), darksidesync.getfd() == fd)
            darksidesync.drain()
            print(readable(fd))
            """);

        Assert.Equal(["true\ttrue", "false"], result.AssertEnded("getfd after deliveries").Lines);
    }

    [Fact]
    public async Task The_fd_must_stay_readable_after_a_partial_dispatch_and_go_quiet_after_the_one_that_empties_the_queue()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            u:deliver(3)
            local states = {}
            for _ = 1, 3 do
              local ran, remaining = darksidesync.dispatch(1)
              states[#states + 1] = ("%d,%d,%s"):format(ran, remaining, tostring(readable(fd)))
            end
            print(table.concat(states, " "))
            local ran, remaining = darksidesync.dispatch()
            print(ran, remaining, readable(fd))
            """);

        Assert.Equal(["1,2,true 1,1,true 1,0,false", "0\t0\tfalse"], result.AssertEnded("dispatch(1) three times").Lines);
    }

    [Fact]
    public async Task Poll_must_leave_the_fd_readable_while_items_remain_and_make_it_unreadable_when_it_takes_the_last()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            u:deliver(2)
            local count, cb, args = darksidesync.poll()
            cb(table.unpack(args))
            print(count, readable(fd))
            count, cb, args = darksidesync.poll()
            cb(table.unpack(args))
            print(count, readable(fd))
            print(darksidesync.poll(), readable(fd), received)
            """);

        Assert.Equal(["1\ttrue", "0\tfalse", "-1\tfalse\t2"], result.AssertEnded("poll of two items").Lines);
    }

    [Fact]
    public async Task The_fd_must_be_written_once_per_change_from_empty_to_non_empty_not_once_per_delivery()
    {
        await CSampleBuild.AddToAsync(_lua);

        // eventfd-count is the eventfd's counter: each write adds one, the clear reads it to 0.
        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            print(fdinfo(fd)["eventfd-count"])
            u:deliver(1000)
            print(fdinfo(fd)["eventfd-count"])
            u:start{ threads = 4, items = 25000 }
            u:join()
            print(darksidesync.queuesize(), fdinfo(fd)["eventfd-count"])
            darksidesync.drain()
            print(fdinfo(fd)["eventfd-count"], readable(fd))
            u:deliver(1)
            print(fdinfo(fd)["eventfd-count"], readable(fd))
            """);

        Assert.Equal(["0", "1", "101000\t1", "0\tfalse", "1\ttrue"], result.AssertEnded("eventfd writes").Lines);
    }

    [Fact]
    public async Task The_fd_must_be_a_non_blocking_close_on_exec_eventfd_that_a_child_process_does_not_inherit()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            local flags = tonumber(fdinfo(fd).flags, 8)
            local O_NONBLOCK, O_CLOEXEC = 0x800, 0x80000
            print("nonblock", flags & O_NONBLOCK ~= 0, "cloexec", flags & O_CLOEXEC ~= 0)
            local link = io.popen("readlink /proc/" .. io.open("/proc/self/stat"):read("n") .. "/fd/" .. fd)
            print(link:read("l"))
            link:close()
            -- The shell io.popen runs lists its own descriptors: DSS's must not be among them.
            local child = io.popen("ls /proc/$$/fd")
            local inherited = false
            for name in child:lines() do inherited = inherited or tonumber(name) == fd end
            child:close()
            print("inherited", inherited)
            """);

        Assert.Equal(["nonblock\ttrue\tcloexec\ttrue", "anon_inode:[eventfd]", "inherited\tfalse"],
            result.AssertEnded("the fd's flags").Lines);
    }

    [Fact]
    public async Task Stop_and_start_must_keep_the_fd_and_getfd_must_raise_while_DSS_is_stopped()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            u:deliver(3)
            print(readable(fd))
            darksidesync.stop()                 -- cancels the three queued items
            print(pcall(darksidesync.getfd))
            print("stopped", readable(fd), fdinfo(fd)["eventfd-count"])
            darksidesync.start()
            print(darksidesync.getfd() == fd, readable(fd))
            local u2 = assert(producer.new{ callback = function() received = received + 1 end })
            u2:deliver(2)
            print(readable(fd))
            darksidesync.drain()
            print(readable(fd), received)
            """);

        Assert.Equal(
            ["true", "false\t" + NotStarted, "stopped\tfalse\t0", "true\tfalse", "true", "false\t2"],
            result.AssertEnded("getfd across stop and start").Lines);
    }

    [Fact]
    public async Task A_spurious_readiness_after_unregister_must_be_cleared_by_the_next_dispatch()
    {
        await CSampleBuild.AddToAsync(_lua);

        // Unregistering cancels the queued items without a poll or dispatch: the fd may stay
        // readable (a spurious wake-up, which the contract allows); the next look clears it.
        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            u:deliver(2)
            u:unregister()
            print(darksidesync.queuesize())
            print(darksidesync.dispatch())
            print(readable(fd), received)
            """);

        Assert.Equal(["0", "0\t0", "false\t0"], result.AssertEnded("readiness after unregister").Lines);
    }

    [Theory]
    [InlineData("per-delivery")]
    [InlineData("coalesced")]
    public async Task The_fd_and_UDP_wakeups_must_work_side_by_side(string notification)
    {
        await CSampleBuild.AddToAsync(_lua);
        _lua.UseConfig($"darksidesync.notification = {notification}");

        var result = await _lua.RunAsync(Prelude + """
            local dss = require "dss"
            local skt = assert(dss.getsocket())
            local fd = darksidesync.getfd()
            local function datagram() return socket.select({ skt }, nil, 1)[skt] ~= nil end
            u:deliver(3)
            print("fd", readable(fd), "udp", datagram())
            dss.gethandler()(skt)              -- reads the datagrams, drains the queue
            print("fd", readable(fd), "received", received, "left", darksidesync.queuesize())
            u:deliver(1)                       -- coalesced: re-armed by the drain
            print("fd", readable(fd), "udp", datagram())
            dss.gethandler()(skt)
            print("fd", readable(fd), "udp", socket.select({ skt }, nil, 0)[skt] ~= nil, "received", received)
            """);

        Assert.Equal(
            [
                "fd\ttrue\tudp\ttrue",
                "fd\tfalse\treceived\t3\tleft\t0",
                "fd\ttrue\tudp\ttrue",
                "fd\tfalse\tudp\tfalse\treceived\t4",
            ],
            result.AssertEnded($"getfd beside {notification} UDP").Lines);
    }

    [Fact]
    public async Task A_select_loop_on_the_fd_must_run_every_delivery_of_four_pthreads_with_capped_batches()
    {
        await CSampleBuild.AddToAsync(_lua);

        // dispatch(100) per wake-up: the fd stays readable while items remain, so the loop
        // comes back for them; a missed wake-up ends the loop at select's 5 s timeout.
        var result = await _lua.RunAsync(Prelude + """
            local fd = darksidesync.getfd()
            local watched = { getfd = function() return fd end }
            u:start{ threads = 4, items = 25000 }
            local wakeups = 0
            while received < 100000 do
              if not socket.select({ watched }, nil, 5)[watched] then break end
              wakeups = wakeups + 1
              darksidesync.dispatch(100)
            end
            u:join()
            print(received, darksidesync.queuesize(), readable(fd), u:stats().fifo_violations, wakeups >= 1000)
            """);

        Assert.Equal("100000\t0\tfalse\t0\ttrue", result.AssertEnded("a capped select loop on the fd").Lines.Single());
    }

    [Fact]
    public async Task A_decode_that_stops_DSS_under_dispatch_must_leave_the_fd_unreadable()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local fd = darksidesync.getfd()
            local watched = { getfd = function() return fd end }
            local f = assert(fu.new{ callback = function() end, stopper = darksidesync.stop })
            f:deliver("stop")
            f:deliver("ok")
            darksidesync.dispatch()
            print(stopped(), socket.select({ watched }, nil, 0)[watched] ~= nil)
            """);

        Assert.Equal("true\tfalse", result.AssertEnded("a decode that stops DSS").Lines.Single());
    }
}
