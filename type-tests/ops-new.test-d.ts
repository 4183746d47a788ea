import { expectType, expectError } from "tsd";
import {
  Tensor, tensor, erf, floor, ceil, round, isFinite, isNaN, logicalAnd, logicalOr, logicalNot, mod, atan2,
  cumsum, cumprod, reverse, sort, argsort, topk, gatherNd, scatter, segmentSum, einsum, norm, l2Normalize,
  outer, diag, bandPart, pad, gelu, MAX_TENSOR_SIZE,
  type ScanOptions, type SortOptions, type TopK, type NormOrder, type PadMode, type PadOptions,
} from "../dist/index.js";

const x = tensor([[1, 2], [3, 4]]);

// Elementwise
expectType<Tensor>(erf(x));
expectType<Tensor>(floor(ceil(round(x))));
expectType<Tensor>(isFinite(x));
expectType<Tensor>(isNaN(x));
expectType<Tensor>(logicalNot(logicalAnd(x, logicalOr(1, x))));
expectType<Tensor>(mod(x, 3));
expectType<Tensor>(mod(7, x));
expectType<Tensor>(atan2(x, 1));
expectType<Tensor>(gelu(x, true));
expectType<2147483647>(MAX_TENSOR_SIZE);
expectError(erf(1));
expectError(mod(x, "3"));
expectError(logicalAnd(x, true));

// Scans and sorting
const scanOptions: ScanOptions = { exclusive: true, reverse: false };
expectType<Tensor>(cumsum(x));
expectType<Tensor>(cumsum(x, 0, scanOptions));
expectType<Tensor>(cumprod(x, -1, { reverse: true }));
expectType<Tensor>(reverse(x));
expectType<Tensor>(reverse(x, [0, 1]));
const sortOptions: SortOptions = { descending: true };
expectType<Tensor>(sort(x, -1, sortOptions));
expectType<Tensor>(argsort(x));
expectType<TopK>(topk(x, 1));
expectType<Tensor>(topk(x, 1).values);
expectType<Tensor>(topk(x, 1).indices);
expectError(cumsum(x, 0, { exclusive: 1 }));
expectError(sort(x, -1, { order: "desc" }));
expectError(topk(x));

// Indexing
expectType<Tensor>(gatherNd(x, [[0, 1]]));
expectType<Tensor>(gatherNd(x, tensor([[0, 1]], { dtype: "int32" })));
expectType<Tensor>(scatter([[0]], tensor([1]), [2]));
expectType<Tensor>(segmentSum(x, [0, 0]));
expectType<Tensor>(segmentSum(x, [0, 1], 3));
expectError(scatter([[0]], [1], [2]));
expectError(segmentSum(x));

// einsum, norms, matrices
expectType<Tensor>(einsum("ij,jk->ik", x, x));
expectType<Tensor>(einsum("ii", x));
expectError(einsum(x, x));
const order: NormOrder = "fro";
expectType<Tensor>(norm(x));
expectType<Tensor>(norm(x, order, [0, 1], true));
expectType<Tensor>(norm(x, Infinity, 0));
expectType<Tensor>(l2Normalize(x, -1, 1e-6));
expectError(norm(x, true));
expectType<Tensor>(outer(x, x));
expectType<Tensor>(diag(x, 1));
expectType<Tensor>(bandPart(x, 0, -1));
expectError(bandPart(x, 0));

// Padding modes
const mode: PadMode = "reflect";
const padOptions: PadOptions = { mode };
expectType<Tensor>(pad(x, [[1, 1], [0, 0]], padOptions));
expectType<Tensor>(pad(x, [[1, 1], [0, 0]], { mode: "symmetric" }));
expectType<Tensor>(pad(x, [[1, 1], [0, 0]], 5));
expectError(pad(x, [[1, 1], [0, 0]], { mode: "wrap" }));

// Tensor methods
expectType<Tensor>(x.floor().ceil().round().erf());
expectType<Tensor>(x.isFinite().logicalAnd(x.isNaN().logicalNot()).logicalOr(0));
expectType<Tensor>(x.mod(2).atan2(x));
expectType<Tensor>(x.cumsum(0, { exclusive: true }).cumprod().reverse(0));
expectType<Tensor>(x.sort().argsort(0, { descending: true }));
expectType<TopK>(x.topk(1));
expectType<Tensor>(x.norm(1, 0).l2Normalize());
expectType<Tensor>(x.gatherNd([[1]]).bandPart(0, 0));
expectType<Tensor>(x.pad([[1, 1], [1, 1]], { mode: "reflect" }));
expectError(x.topk("1"));
