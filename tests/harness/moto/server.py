# Emulated AWS for carto-aws tests: moto's server on loopback, with what moto lacks patched in.
#
# - a Canonical Ubuntu 22.04 (jammy) AMI, seeded through MOTO_AMIS_PATH before moto is imported;
# - the Canonical SSM public parameter for that AMI, answered by patching moto's ParameterDict;
# - every public IP moto hands out (Elastic IPs, ENIs) replaced by CARTO_TEST_VM_IP
#   (default 127.0.0.2), so nothing ever points at a real address;
# - AMI, instance type and key pair validation switched on.
# Usage: python3 server.py [PORT]   (0 or absent: pick a free port). Prints "READY <port>" once
# listening on 127.0.0.1. Exits on SIGTERM, or when stdin closes (the parent test died).
import json
import logging
import os
import signal
import sys
import tempfile
import threading

JAMMY_AMI_ID = "ami-0c0ffee0jammy0001"
JAMMY_AMI_NAME = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101"
CANONICAL_OWNER = "099720109477"
UBUNTU_PARAM = "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"


def seed_amis():
    amis = [
        {
            "ami_id": JAMMY_AMI_ID,
            "name": JAMMY_AMI_NAME,
            "description": "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image (test seed)",
            "owner_id": CANONICAL_OWNER,
            "public": True,
            "state": "available",
            "architecture": "x86_64",
            "virtualization_type": "hvm",
            "hypervisor": "xen",
            "root_device_type": "ebs",
            "root_device_name": "/dev/sda1",
            "image_type": "machine",
            "image_location": "amazon/" + JAMMY_AMI_NAME,
            "sriov": "simple",
            "creation_date": "2025-01-01T00:00:00.000Z",
        }
    ]
    fd, path = tempfile.mkstemp(prefix="carto-moto-amis-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(amis, f)
    os.environ["MOTO_AMIS_PATH"] = path
    return path


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    vm_ip = os.environ.get("CARTO_TEST_VM_IP", "127.0.0.2")
    for flag in (
        "MOTO_ENABLE_AMI_VALIDATION",
        "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION",
        "MOTO_ENABLE_KEYPAIR_VALIDATION",
    ):
        os.environ[flag] = "true"
    amis_path = seed_amis()  # must precede the first moto import

    try:
        import moto.ec2.models.elastic_ip_addresses as eip_mod
        import moto.ec2.models.elastic_network_interfaces as eni_mod
        import moto.ssm.models as ssm_models
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("moto is not installed: run .ci/install", file=sys.stderr, flush=True)
        sys.exit(3)

    eip_mod.random_ip = lambda: vm_ip
    eni_mod.random_public_ip = lambda: vm_ip

    original_check = ssm_models.ParameterDict._check_loading_status

    def check_loading_status(self, key):
        original_check(self, key)
        if str(key or "").startswith("/aws/service/canonical/") and not dict.__contains__(
            self, UBUNTU_PARAM
        ):
            dict.__setitem__(
                self,
                UBUNTU_PARAM,
                [
                    ssm_models.Parameter(
                        account_id=self.account_id,
                        name=UBUNTU_PARAM,
                        value=JAMMY_AMI_ID,
                        parameter_type="String",
                        description=None,
                        allowed_pattern=None,
                        keyid=None,
                        last_modified_date=ssm_models.utcnow(),
                        version=1,
                        data_type="aws:ec2:image",
                    )
                ],
            )

    ssm_models.ParameterDict._check_loading_status = check_loading_status

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, bound = server.get_host_and_port()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        except OSError:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"READY {bound}", flush=True)
    done.wait()
    try:
        os.unlink(amis_path)
    except OSError:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
