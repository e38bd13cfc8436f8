# Runs Supervisor 4.2.5's own event code for fallback/events' differential
# tests. Reads one JSON request on stdin, writes one JSON answer on stdout:
#
#   {"types": true}           -> {"types": [names], "is": {name: [supertype names]}}
#   {"events": [spec...], "identifier": id}
#                              -> {"events": [{"name", "payload", "envelope"}]}
#   {"scenarios": {name: {...}}} -> {"snapshots": {name: [...]}} (see scenario_test.go)
import base64
import json
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')

from supervisor import events
from supervisor.dispatchers import PEventListenerDispatcher, default_handler
from supervisor.process import EventListenerPool, GlobalSerial
from supervisor.states import ProcessStates, getEventListenerStateDescription
from supervisor.supervisord import timeslice
from supervisor.tests.base import DummyOptions, DummyPConfig, DummyPGroupConfig


class NS(object):
    pass


def fakeproc(name, group, pid, backoff=0):
    p = NS()
    p.config = NS()
    p.config.name = name
    p.pid = pid
    p.backoff = backoff
    p.group = NS()
    p.group.config = NS()
    p.group.config.name = group
    return p


def build(spec):
    k = spec['kind']
    if k == 'state':
        p = fakeproc(spec['name'], spec['group'], spec['pid'], spec['tries'])
        cls = getattr(events.EventTypes, 'PROCESS_STATE_' + spec['to'])
        return cls(p, getattr(ProcessStates, spec['from']), spec['expected'])
    if k in ('log', 'comm'):
        p = fakeproc(spec['name'], spec['group'], 0)
        word = 'PROCESS_LOG_' if k == 'log' else 'PROCESS_COMMUNICATION_'
        cls = getattr(events.EventTypes, word + spec['channel'].upper())
        return cls(p, spec['pid'], base64.b64decode(spec.get('data') or ''))
    if k == 'remote':
        return events.RemoteCommunicationEvent(spec['type'], spec['text'])
    if k == 'running':
        return events.SupervisorRunningEvent()
    if k == 'stopping':
        return events.SupervisorStoppingEvent()
    if k == 'added':
        return events.ProcessGroupAddedEvent(spec['group'])
    if k == 'removed':
        return events.ProcessGroupRemovedEvent(spec['group'])
    if k == 'tick':
        cls = getattr(events.EventTypes, spec['type'])
        when = spec['sec'] + spec['nsec'] / 1e9
        return cls(timeslice(cls.period, when), None)
    raise ValueError('unknown spec kind %r' % k)


def type_names():
    return [n for n in vars(events.EventTypes) if n.isupper()]


def answer_types():
    names = type_names()
    sup = {}
    for n in names:
        t = getattr(events.EventTypes, n)
        sup[n] = [m for m in names if issubclass(t, getattr(events.EventTypes, m))]
    return {'types': names, 'is': sup}


def answer_events(req):
    opts = DummyOptions()
    opts.identifier = req.get('identifier', 'supervisor')
    gconfig = DummyPGroupConfig(opts, 'pool', 1, [])
    gconfig.pool_events = []
    pool = EventListenerPool(gconfig)
    out = []
    for spec in req['events']:
        ev = build(spec)
        payload = ev.payload()
        env = pool._eventEnvelope(type(ev), 7, 3, payload)
        out.append({'name': events.getEventNameByType(type(ev)),
                    'payload': payload, 'envelope': env})
    return {'events': out}


def answer_scenario(sc):
    events.clear()
    GlobalSerial.serial = -1
    opts = DummyOptions()
    opts.identifier = sc['identifier']
    pools = []
    procs = {}
    disp = {}
    for ps in sc['pools']:
        pconfigs = [DummyPConfig(opts, n, '/bin/true') for n in ps['procs']]
        g = DummyPGroupConfig(opts, ps['name'], 1, pconfigs)
        g.pool_events = [getattr(events.EventTypes, e) for e in ps['events']]
        g.buffer_size = ps['size']
        g.result_handler = default_handler
        pool = EventListenerPool(g)
        pools.append(pool)
        for n in ps['procs']:
            p = pool.processes[n]
            p.state = ProcessStates.STOPPED
            procs[(ps['name'], n)] = p
    seen = {k: 0 for k in procs}
    logged = 0
    snaps = []
    for op in sc['ops']:
        kind = op['op']
        key = (op.get('pool'), op.get('proc'))
        if kind == 'publish':
            events.notify(build(op['event']))
        elif kind == 'spawn':
            p = procs[key]
            disp[key] = PEventListenerDispatcher(p, 'stdout', 1)
            p.state = ProcessStates.STARTING
        elif kind == 'state':
            procs[key].state = getattr(ProcessStates, op['state'])
        elif kind == 'out':
            opts.readfd_result = base64.b64decode(op['data'])
            disp[key].handle_read_event()
        elif kind == 'exit':
            # Subprocess.finish(): the state changes, then an unanswered
            # event is rejected and so re-buffered.
            p = procs[key]
            p.state = ProcessStates.EXITED
            if p.event is not None:
                events.notify(events.EventRejectedEvent(p, p.event))
                p.event = None
        else:
            raise ValueError('unknown op %r' % kind)
        for pool in pools:
            pool.transition()
        snap = {'logs': opts.logger.data[logged:], 'listeners': {}, 'buffers': {}}
        logged = len(opts.logger.data)
        for (pn, n), p in procs.items():
            state = getEventListenerStateDescription(p.listener_state) if p.listener_state else 'None'
            snap['listeners'][pn + '/' + n] = {
                'state': state,
                'stdin': base64.b64encode(p.stdin_buffer[seen[(pn, n)]:]).decode(),
            }
            seen[(pn, n)] = len(p.stdin_buffer)
        for pool in pools:
            snap['buffers'][pool.config.name] = [
                [e.serial, e.pool_serials[pool.config.name]] for e in pool.event_buffer]
        snaps.append(snap)
    return snaps


def main():
    req = json.load(sys.stdin)
    if req.get('types'):
        ans = answer_types()
    elif 'scenarios' in req:
        ans = {'snapshots': {name: answer_scenario(sc) for name, sc in req['scenarios'].items()}}
    else:
        ans = answer_events(req)
    json.dump(ans, sys.stdout)


main()
