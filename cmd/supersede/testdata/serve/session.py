# The XML-RPC session of TestServeXMLRPCOnSystemd: every supervisor.* and
# system.* method, with the faults a client meets, through Python's own
# xmlrpc.client (as deploy scripts and dashboards use it), against the URL
# given. Prints a JSON list of [method, args, answer]; an answer is
# {"ok": value}, {"fault": code, "string": text} or {"http": status}.
# Waits for states are not part of the transcript. A connection that fails
# is {"error": name}: the waits try again.
import functools, json, sys, time, xmlrpc.client

url = sys.argv[1]
proxy = xmlrpc.client.ServerProxy(url, allow_none=False)
out = []


def method(name):
    return functools.reduce(getattr, name.split('.'), proxy)


def answer(name, *args):
    try:
        return {'ok': method(name)(*args)}
    except xmlrpc.client.Fault as f:
        return {'fault': f.faultCode, 'string': f.faultString}
    except xmlrpc.client.ProtocolError as e:
        return {'http': e.errcode}
    except OSError as e:  # supervisord closes its sockets while it restarts
        return {'error': type(e).__name__}


def call(name, *args):
    r = answer(name, *args)
    out.append([name, list(args), r])
    return r


def wait(name, *states, timeout=60):
    deadline = time.time() + timeout
    while True:
        r = answer('supervisor.getProcessInfo', name)
        if 'ok' in r and r['ok']['statename'] in states:
            return
        if time.time() > deadline:
            sys.exit('%s: %s not in %s after %ds: %r' % (url, name, states, timeout, r))
        time.sleep(0.05)


def wait_up():
    deadline = time.time() + 60
    while 'ok' not in answer('supervisor.getState'):
        if time.time() > deadline:
            sys.exit('%s: no answer after a restart' % url)
        time.sleep(0.1)


def settle():
    wait('crash', 'FATAL')
    wait('once', 'EXITED')
    wait('talker', 'RUNNING')
    wait('sleeper', 'RUNNING')
    wait('web:w1', 'RUNNING')
    wait('web:w2', 'RUNNING')
    wait('manual', 'STOPPED')


wait_up()
settle()
# introspection
methods = call('system.listMethods')['ok']
for m in methods:
    call('system.methodHelp', m)
    call('system.methodSignature', m)
call('system.methodHelp', 'nosuch.method')
call('system.methodSignature', 'supervisor.nosuch')
# the daemon
for m in ('getAPIVersion', 'getVersion', 'getSupervisorVersion', 'getIdentification', 'getState', 'getPID'):
    call('supervisor.' + m)
call('supervisor.getState', 'extra')
call('supervisor.nosuch')
call('nosuch.getState')
call('supervisor._update', 'x')
# processes
call('supervisor.getAllProcessInfo')
for n in ('talker', 'crash', 'once', 'manual', 'web:w1', 'web:*', 'web', 'nosuch', 'web:nosuch', 'quiet'):
    call('supervisor.getProcessInfo', n)
call('supervisor.getProcessInfo', 1)
call('supervisor.getProcessInfo')
call('supervisor.getAllConfigInfo')
# logs
for m in ('readProcessStdoutLog', 'readProcessLog', 'readProcessStderrLog'):
    for args in (('talker', 0, 0), ('talker', -6, 0), ('talker', 2, 3), ('talker', -6, 3), ('talker', 0, -1),
                 ('talker', 1000, 0), ('quiet', 0, 0), ('nosuch', 0, 0), ('talker', 'x', 0)):
        call('supervisor.' + m, *args)
for m in ('tailProcessStdoutLog', 'tailProcessLog', 'tailProcessStderrLog'):
    for args in (('talker', 0, 100), ('talker', 2, 3), ('talker', 0, 5), ('talker', 1000, 10), ('quiet', 0, 10), ('nosuch', 0, 1)):
        call('supervisor.' + m, *args)
call('supervisor.clearProcessLogs', 'talker')
call('supervisor.readProcessStdoutLog', 'talker', 0, 0)
call('supervisor.clearProcessLog', 'nosuch')
call('supervisor.clearProcessLogs', 'web:*')
call('supervisor.clearAllProcessLogs')
call('supervisor.readLog', 0, 0)
call('supervisor.readMainLog', -100, 0)
call('supervisor.readLog', 'x', 0)
call('supervisor.clearLog')
# start, stop, signal
call('supervisor.stopProcess', 'sleeper')
call('supervisor.stopProcess', 'sleeper')
call('supervisor.stopProcess', 'nosuch')
call('supervisor.startProcess', 'sleeper')
call('supervisor.startProcess', 'sleeper')
call('supervisor.startProcess', 'nosuch')
call('supervisor.startProcess', 'web:nosuch')
call('supervisor.startProcess', 'manual', False)
wait('manual', 'RUNNING')
call('supervisor.stopProcess', 'manual', False)
wait('manual', 'STOPPED')
call('supervisor.startProcess', 'manual', True)
call('supervisor.stopProcessGroup', 'web')
call('supervisor.stopProcessGroup', 'web')
call('supervisor.stopProcessGroup', 'nosuch')
call('supervisor.startProcessGroup', 'web')
call('supervisor.startProcessGroup', 'web', True)
call('supervisor.startProcessGroup', 'nosuch')
call('supervisor.stopProcessGroup', 'web', False)
wait('web:w1', 'STOPPED')
wait('web:w2', 'STOPPED')
call('supervisor.startProcessGroup', 'web', False)
wait('web:w1', 'RUNNING')
wait('web:w2', 'RUNNING')
call('supervisor.signalProcess', 'manual', 'CONT')
call('supervisor.signalProcess', 'manual', 18)
call('supervisor.signalProcess', 'manual', 'SIGCONT')
call('supervisor.signalProcess', 'manual', 'NOPE')
call('supervisor.signalProcess', 'once', 'HUP')
call('supervisor.signalProcess', 'nosuch', 'HUP')
call('supervisor.signalProcessGroup', 'web', 'CONT')
call('supervisor.signalProcessGroup', 'nosuch', 'CONT')
call('supervisor.signalAllProcesses', 'CONT')
call('supervisor.signalAllProcesses', 'NOPE')
call('supervisor.sendProcessStdin', 'once', 'x')
call('supervisor.sendProcessStdin', 'nosuch', 'x')
call('supervisor.sendProcessStdin', 'sleeper', 'hello\n')
call('supervisor.sendProcessStdin', 'sleeper', 1)
call('supervisor.sendRemoteCommEvent', 'type', 'data')
# groups
call('supervisor.reloadConfig')
call('supervisor.removeProcessGroup', 'web')
call('supervisor.stopProcessGroup', 'web')
call('supervisor.removeProcessGroup', 'web')
call('supervisor.removeProcessGroup', 'web')
call('supervisor.getProcessInfo', 'web:w1')
call('supervisor.addProcessGroup', 'web')
call('supervisor.addProcessGroup', 'web')
call('supervisor.addProcessGroup', 'nosuch')
wait('web:w1', 'RUNNING')
wait('web:w2', 'RUNNING')
# everything
call('supervisor.stopAllProcesses')
call('supervisor.getAllProcessInfo')
call('supervisor.startAllProcesses', False)
settle_all = ('talker', 'sleeper', 'web:w1', 'web:w2', 'manual')
for n in settle_all:
    wait(n, 'RUNNING')
wait('crash', 'FATAL')
wait('once', 'EXITED')
call('supervisor.stopAllProcesses', True)
# multicall
call('system.multicall', [
    {'methodName': 'supervisor.getAPIVersion'},
    {'methodName': 'supervisor.getProcessInfo', 'params': ['nosuch']},
    {'methodName': 'supervisor.startProcess', 'params': ['sleeper']},
    {'methodName': 'supervisor.startProcess', 'params': ['sleeper']},
    {'methodName': 'system.multicall', 'params': [[]]},
    {'methodName': 'nosuch'},
    {'params': []},
])
call('system.multicall', ['not a struct'])
call('system.multicall', [])
call('system.multicall', 'x')
wait('sleeper', 'RUNNING')
# restart and shutdown
# Supervisor's times are whole seconds: the restart comes a second after
# crash's last exit, so that its next FATAL is told from this one.
time.sleep(1.1)
before = answer('supervisor.getProcessInfo', 'talker')['ok']
call('supervisor.restart')
wait_up()
deadline = time.time() + 60
while True:
    t = answer('supervisor.getProcessInfo', 'talker')
    c = answer('supervisor.getProcessInfo', 'crash')
    if 'ok' in t and 'ok' in c and t['ok']['pid'] not in (0, before['pid']) and \
            c['ok']['statename'] == 'FATAL' and (c['ok']['stop'] >= before['now'] or c['ok']['stop'] == 0):
        break
    if time.time() > deadline:
        sys.exit('%s: not back after restart: %r %r' % (url, t, c))
    time.sleep(0.05)
settle()
call('supervisor.getAllProcessInfo')
call('supervisor.shutdown')
json.dump(out, sys.stdout, indent=1, sort_keys=True)
