// An interoperability server built on node-opcua (another OPC UA stack than asyncua) serving a
// subset of the Kylbox address space (docs/design/lockers.md), so the gateway is tested
// against a server it was not written together with.
//
//   Objects/Kylbox/Lockers/KB-0001/Compartment<NN>/
//       DoorOpen, Locked, Occupied (Boolean), Temperature, Setpoint (Double, °C),
//       TemperatureClass (String), Size (String), Unlock(), SetSetpoint(Setpoint: Double)
//
// Usage: node server.js --port 4850 [--pki DIR]
// Prints "listening on <url>" once it accepts connections; SIGINT/SIGTERM stop it cleanly.
"use strict";

const path = require("path");
const { OPCUAServer, OPCUACertificateManager, Variant, DataType, StatusCodes } = require("node-opcua");

const NAMESPACE = "urn:samverka:sim:kylbox";
const TICK_MS = 500;
const ROOM_C = 20.0;
const WARM_RATE = 0.3; // °C/s while the door is open
const COOL_RATE = 0.1; // °C/s toward the setpoint while closed

function parseArgs(argv) {
    const options = { port: 4850, pki: path.join(__dirname, "pki") };
    for (let i = 0; i < argv.length; i += 1) {
        if (argv[i] === "--port") {
            options.port = Number.parseInt(argv[(i += 1)], 10);
        } else if (argv[i] === "--pki") {
            options.pki = argv[(i += 1)];
        } else {
            throw new Error(`unknown argument ${argv[i]} (usage: node server.js --port P [--pki DIR])`);
        }
    }
    if (!Number.isInteger(options.port) || options.port <= 0) {
        throw new Error("--port needs a TCP port number");
    }
    return options;
}

function newCompartments() {
    const make = (temperatureClass, size, setpoint) => ({
        temperatureClass, size, setpoint, temperature: setpoint, doorOpen: false, locked: true, occupied: false,
    });
    return [make("chilled", "M", 4.0), make("frozen", "S", -20.0), make("ambient", "L", ROOM_C)];
}

function approach(current, target, step) {
    if (Math.abs(target - current) <= step) {
        return target;
    }
    return current + (target > current ? step : -step);
}

function tick(compartments, seconds) {
    for (const c of compartments) {
        if (c.temperatureClass === "ambient") {
            c.temperature = approach(c.temperature, ROOM_C, COOL_RATE * seconds);
        } else if (c.doorOpen) {
            c.temperature = approach(c.temperature, ROOM_C, WARM_RATE * seconds);
        } else {
            c.temperature = approach(c.temperature, c.setpoint, COOL_RATE * seconds);
        }
    }
}

function addValue(namespace, parent, browseName, dataType, read) {
    namespace.addVariable({
        componentOf: parent,
        browseName,
        dataType,
        minimumSamplingInterval: 100, // values change every tick (500 ms); let subscribers sample faster
        value: { get: () => new Variant({ dataType: DataType[dataType], value: read() }) },
    });
}

function addCompartment(namespace, locker, number, c) {
    const name = `Compartment${String(number).padStart(2, "0")}`;
    const obj = namespace.addObject({ componentOf: locker, browseName: name });
    addValue(namespace, obj, "DoorOpen", "Boolean", () => c.doorOpen);
    addValue(namespace, obj, "Locked", "Boolean", () => c.locked);
    addValue(namespace, obj, "Occupied", "Boolean", () => c.occupied);
    addValue(namespace, obj, "Temperature", "Double", () => Math.round(c.temperature * 100) / 100);
    addValue(namespace, obj, "Setpoint", "Double", () => c.setpoint);
    addValue(namespace, obj, "TemperatureClass", "String", () => c.temperatureClass);
    addValue(namespace, obj, "Size", "String", () => c.size);

    const unlock = namespace.addMethod(obj, { browseName: "Unlock", inputArguments: [], outputArguments: [] });
    unlock.bindMethod((inputArguments, context, callback) => {
        c.locked = false;
        setTimeout(() => { c.doorOpen = true; }, 100); // the door springs open a moment later
        callback(null, { statusCode: StatusCodes.Good, outputArguments: [] });
    });

    const setSetpoint = namespace.addMethod(obj, {
        browseName: "SetSetpoint",
        inputArguments: [{ name: "Setpoint", dataType: DataType.Double, description: { text: "The new setpoint in °C" } }],
        outputArguments: [],
    });
    setSetpoint.bindMethod((inputArguments, context, callback) => {
        const value = inputArguments[0].value;
        if (c.temperatureClass === "ambient" || value < -40 || value > 30) {
            callback(null, { statusCode: StatusCodes.BadOutOfRange });
            return;
        }
        c.setpoint = value;
        callback(null, { statusCode: StatusCodes.Good, outputArguments: [] });
    });
}

async function main() {
    const options = parseArgs(process.argv.slice(2));
    const serverCertificateManager = new OPCUACertificateManager({
        rootFolder: path.join(options.pki, "server"),
        automaticallyAcceptUnknownCertificate: true,
    });
    const server = new OPCUAServer({
        port: options.port,
        hostname: "127.0.0.1",
        resourcePath: "",
        serverCertificateManager,
        serverInfo: { applicationUri: "urn:samverka:sim:kylbox:node-opcua", productUri: NAMESPACE },
        buildInfo: { productName: "Kylbox interop simulator (node-opcua)", manufacturerName: "Kylbox AB" },
        allowAnonymous: true,
    });
    await server.initialize();

    const addressSpace = server.engine.addressSpace;
    const namespace = addressSpace.registerNamespace(NAMESPACE);
    const kylbox = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Kylbox" });
    const lockers = namespace.addObject({ organizedBy: kylbox, typeDefinition: "FolderType", browseName: "Lockers" });
    const locker = namespace.addObject({ organizedBy: lockers, browseName: "KB-0001" });
    const compartments = newCompartments();
    compartments.forEach((c, i) => addCompartment(namespace, locker, i + 1, c));

    const timer = setInterval(() => tick(compartments, TICK_MS / 1000), TICK_MS);
    await server.start();
    console.log(`listening on opc.tcp://127.0.0.1:${options.port}`);

    let stopping = false;
    const stop = async () => {
        if (stopping) {
            return;
        }
        stopping = true;
        clearInterval(timer);
        await server.shutdown(0);
        console.log("stopped");
        process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
