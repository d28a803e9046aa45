# Emulated AWS for carto-aws tests: moto's server on loopback, with what moto lacks patched in.
#
# - a Canonical Ubuntu 22.04 (jammy) AMI, seeded through MOTO_AMIS_PATH before moto is imported;
# - the Canonical SSM public parameter for that AMI, answered by patching moto's ParameterDict;
# - every public IP moto hands out (Elastic IPs, ENIs) replaced by CARTO_TEST_VM_IP
#   (default 127.0.0.2), so nothing ever points at a real address;
# - AMI, instance type and key pair validation switched on;
# - Route53's batch preconditions, which moto does not check: a CREATE of a name and type that
#   exists (or beside a CNAME, or a CNAME beside anything), or a DELETE whose TTL and values are not exactly the current ones, fails the whole
#   batch with InvalidChangeBatch (as Route53 does) before anything is applied.
# Usage: python3 server.py [PORT]   (0 or absent: pick a free port). Prints "READY <port>" once
# listening on 127.0.0.1. Exits on SIGTERM, or when stdin closes (the parent test died).
import copy
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


def strict_route53(models, exceptions):
    original = models.Route53Backend.change_resource_record_sets

    def key(name, rtype):
        return (name.rstrip(".").lower(), rtype)

    def change_resource_record_sets(self, zoneid, change_list):
        zone = self.get_hosted_zone(zoneid)
        current = {
            key(r.name, r.type): (str(r.ttl), sorted(str(v) for v in r.records))
            for r in zone.rrsets
            if not r.set_identifier
        }
        for change in change_list:
            rr = change["ResourceRecordSet"]
            k = key(rr["Name"], rr["Type"])
            values = sorted(
                v["Value"] if isinstance(v, dict) else str(v) for v in rr.get("ResourceRecords", [])
            )
            where = f"[name='{k[0]}.', type='{k[1]}']"
            if change["Action"] == "CREATE":
                if k in current:
                    raise exceptions.Route53ClientError(
                        "InvalidChangeBatch",
                        f"[Tried to create resource record set {where} but it already exists]",
                    )
                others = [t for (n, t) in current if n == k[0] and t != k[1]]
                if others and ("CNAME" in others or k[1] == "CNAME"):
                    raise exceptions.Route53ClientError(
                        "InvalidChangeBatch",
                        f"[RRSet of type {k[1]} with DNS name {k[0]}. is not permitted because a conflicting RRSet of type {others[0]} with the same DNS name already exists]",
                    )
                current[k] = (str(rr.get("TTL")), values)
            elif change["Action"] == "DELETE":
                if current.get(k) != (str(rr.get("TTL")), values):
                    raise exceptions.Route53ClientError(
                        "InvalidChangeBatch",
                        f"[Tried to delete resource record set {where} but the values provided do not match the current values]",
                    )
                del current[k]
            else:
                current[k] = (str(rr.get("TTL")), values)
        # The batch is valid as a whole. moto's own CREATE check looks for an identical CREATE
        # in its journal without applying the batch's DELETEs first (so "DELETE ours, CREATE
        # theirs back" fails there): drop those journal entries, the check above is the rule.
        creates = [normalized(c) for c in change_list if c["Action"] == "CREATE"]
        kept = [j for j in zone.rr_changes if j not in creates]
        zone.rr_changes.clear()
        list.extend(zone.rr_changes, kept)
        return original(self, zoneid, change_list)

    def normalized(change):
        change = copy.deepcopy(change)
        rr = change["ResourceRecordSet"]
        rr["Name"] = rr["Name"].strip(".")
        return change

    models.Route53Backend.change_resource_record_sets = change_resource_record_sets


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
        import moto.route53.exceptions as r53_exceptions
        import moto.route53.models as r53_models
        import moto.ssm.models as ssm_models
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("moto is not installed: run .ci/install", file=sys.stderr, flush=True)
        sys.exit(3)

    strict_route53(r53_models, r53_exceptions)
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
