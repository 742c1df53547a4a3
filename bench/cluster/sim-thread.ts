/** Worker-thread entry of the cluster sweep: runs one simulation per task. */
import { serveTasks } from "../lib/threads.js";
import { simulate, type SimulationInput, type SimulationResult } from "./simulation.js";

serveTasks<SimulationInput, SimulationResult>(simulate);
