export { comparisonBase, fileAt, filesAt, historyOf } from "./git.ts";
