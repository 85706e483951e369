"""docker-py (python3-docker) through flocker: the calls a Python user makes most."""
import sys

import docker

url, image = sys.argv[1], sys.argv[2]
client = docker.DockerClient(base_url=url, timeout=60)
assert client.ping()
version = client.version()
assert version["ApiVersion"], version

client.images.pull(image)
out = client.containers.run(image, ["echo", "from docker-py"], remove=True)
assert out == b"from docker-py\n", out

c = client.containers.run(image, ["sh", "-c", "echo hello; sleep 30"], detach=True, name="e2e-dockerpy")
try:
    c.reload()
    assert c.status == "running", c.status
    code, output = c.exec_run(["sh", "-c", "echo $((6*7))"])
    assert (code, output) == (0, b"42\n"), (code, output)
    assert b"hello" in c.logs()
    names = [x.name for x in client.containers.list()]
    assert "e2e-dockerpy" in names, names
finally:
    c.remove(force=True)
print("docker-py ok")
