// Creates a lab, starts a sleeper inside it, prints the namespace names, then waits to be killed.
import { createLab } from "../lab.ts";
import { spawn } from "../../process/spawn.ts";

const lab = await createLab();
const sleeper = spawn(["sleep", "300"], { netns: lab.hosts.server });
console.log(JSON.stringify({ run: lab.run, hosts: lab.hosts, sleeper: sleeper.pid, dir: lab.dir }));
await sleeper.status;
