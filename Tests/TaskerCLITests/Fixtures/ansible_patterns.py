"""Prints, for each pattern given after the inventory, the hosts ansible-core selects
(one JSON list per line; null when Ansible reports an error)."""
import json
import sys

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
for pattern in sys.argv[2:]:
    try:
        print(json.dumps([host.name for host in inventory.get_hosts(pattern)]))
    except Exception:
        print("null")
