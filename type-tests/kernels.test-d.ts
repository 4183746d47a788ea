import { expectType, expectError } from "tsd";
import { getThreadCount, setThreadCount } from "../dist/index.js";

// The thread-count setting: a number in, the previous setting out.
expectType<number>(setThreadCount(2));
expectType<number>(getThreadCount());
expectError(setThreadCount());
expectError(setThreadCount("2"));
expectError(getThreadCount(1));
