/** Importing this module registers every VJP rule. */
import './activations.ts';
import './arithmetic.ts';
import './attention.ts';
import './conv.ts';
import './math.ts';
import './matmul.ts';
import './norm.ts';
import './reduce.ts';
import './resize.ts';
import './shape.ts';
