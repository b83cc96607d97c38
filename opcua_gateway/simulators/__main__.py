"""``python -m opcua_gateway.simulators``: see ``opcua_gateway.simulators.cli``."""

from opcua_gateway.simulators.cli import main

if __name__ == "__main__":
    main()
