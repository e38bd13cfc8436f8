# An event listener in superlance's style, on Supervisor's own
# childutils: for each event it reports what it got as one JSON line on
# stderr, then answers. It answers FAIL the first time it sees a payload
# of data "fail-once"; with HANG=1 it never answers data "hang".
import json
import os
import sys
import time

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor import childutils

seen = set()
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    data = payload.split('\n', 1)[-1]
    result = 'OK'
    if data == 'fail-once' and data not in seen:
        result = 'FAIL'
    if data == 'hang' and os.environ.get('HANG') == '1':
        result = 'hang'
    seen.add(data)
    report = dict(headers)
    report['payload'] = payload
    report['result'] = result
    report['pid'] = os.getpid()
    sys.stderr.write(json.dumps(report) + '\n')
    sys.stderr.flush()
    if result == 'hang':
        while True:
            time.sleep(3600)
    childutils.listener.send(result, sys.stdout)
