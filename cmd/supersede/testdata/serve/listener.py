"""An event listener written with Supervisor's own supervisor.childutils,
as superlance's are, for serve_events_test.go.

listener.py LOG WATCHED [RESTART]

It appends each event of a process named in WATCHED (a comma-separated
list) to LOG, as "EVENTNAME PAYLOAD" (a payload's newlines as "|"). When RESTART names
a process, the first time that process is RUNNING it restarts it over
the XML-RPC API, as superlance's memmon does for a process over its
memory limit (supervisor.stopProcess, then supervisor.startProcess, from
SUPERVISOR_SERVER_URL), and logs "RESTARTED NAME".
"""
import os
import sys

from supervisor import childutils


def main():
    log = open(sys.argv[1], 'a')
    watched = set(sys.argv[2].split(','))
    restart = sys.argv[3] if len(sys.argv) > 3 else ''
    restarted = False
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        head, _, data = payload.partition('\n')
        fields = dict(f.split(':', 1) for f in head.split())
        name = fields.get('processname')
        if name in watched:
            # PROCESS_LOG_*: the output after the header line, on one line
            log.write('%s %s\n' % (headers['eventname'], payload.replace('\n', '|')))
            log.flush()
        if (restart and name == restart and not restarted
                and headers['eventname'] == 'PROCESS_STATE_RUNNING'):
            restarted = True
            rpc = childutils.getRPCInterface(os.environ)
            rpc.supervisor.stopProcess(name)
            rpc.supervisor.startProcess(name)
            log.write('RESTARTED %s\n' % name)
            log.flush()
        childutils.listener.ok(sys.stdout)


if __name__ == '__main__':
    main()
