/**
 * The part of the ONNX protobuf schema (onnx.proto, IR version 8) that a model file needs, as a protobufjs
 * reflection definition: field names and numbers as the ONNX specification fixes them. Only the messages
 * and fields this exporter writes or reads are declared; a decoder skips the others.
 */
import protobuf from "protobufjs/light.js";

const int64 = "int64";

const schema: protobuf.INamespace = {
  nested: {
    ModelProto: {
      fields: {
        irVersion: { type: int64, id: 1 },
        opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
        producerName: { type: "string", id: 2 },
        producerVersion: { type: "string", id: 3 },
        domain: { type: "string", id: 4 },
        modelVersion: { type: int64, id: 5 },
        docString: { type: "string", id: 6 },
        graph: { type: "GraphProto", id: 7 },
        metadataProps: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
      },
    },
    OperatorSetIdProto: {
      fields: { domain: { type: "string", id: 1 }, version: { type: int64, id: 2 } },
    },
    StringStringEntryProto: {
      fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } },
    },
    GraphProto: {
      fields: {
        node: { rule: "repeated", type: "NodeProto", id: 1 },
        name: { type: "string", id: 2 },
        initializer: { rule: "repeated", type: "TensorProto", id: 5 },
        docString: { type: "string", id: 10 },
        input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
        output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
        valueInfo: { rule: "repeated", type: "ValueInfoProto", id: 13 },
      },
    },
    NodeProto: {
      fields: {
        input: { rule: "repeated", type: "string", id: 1 },
        output: { rule: "repeated", type: "string", id: 2 },
        name: { type: "string", id: 3 },
        opType: { type: "string", id: 4 },
        domain: { type: "string", id: 7 },
        attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
        docString: { type: "string", id: 6 },
      },
    },
    AttributeProto: {
      fields: {
        name: { type: "string", id: 1 },
        type: { type: "int32", id: 20 },
        f: { type: "float", id: 2 },
        i: { type: int64, id: 3 },
        s: { type: "bytes", id: 4 },
        t: { type: "TensorProto", id: 5 },
        floats: { rule: "repeated", type: "float", id: 7 },
        ints: { rule: "repeated", type: int64, id: 8 },
      },
    },
    TensorProto: {
      fields: {
        dims: { rule: "repeated", type: int64, id: 1 },
        dataType: { type: "int32", id: 2 },
        floatData: { rule: "repeated", type: "float", id: 4 },
        int32Data: { rule: "repeated", type: "int32", id: 5 },
        int64Data: { rule: "repeated", type: int64, id: 7 },
        name: { type: "string", id: 8 },
        rawData: { type: "bytes", id: 9 },
        doubleData: { rule: "repeated", type: "double", id: 10 },
        docString: { type: "string", id: 12 },
        dataLocation: { type: "int32", id: 14 },
      },
    },
    ValueInfoProto: {
      fields: {
        name: { type: "string", id: 1 },
        type: { type: "TypeProto", id: 2 },
        docString: { type: "string", id: 3 },
      },
    },
    TypeProto: {
      fields: { tensorType: { type: "TensorTypeProto", id: 1 } },
    },
    TensorTypeProto: {
      fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } },
    },
    TensorShapeProto: {
      fields: { dim: { rule: "repeated", type: "DimensionProto", id: 1 } },
    },
    DimensionProto: {
      fields: { dimValue: { type: int64, id: 1 }, dimParam: { type: "string", id: 2 } },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);

/** @internal The ModelProto message type (encode and decode whole model files). */
export const ModelProto = root.lookupType("ModelProto");

/** @internal ONNX element types (TensorProto.DataType) used here. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** @internal AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// Plain shapes of the messages, as this module builds and reads them (protobufjs accepts plain objects).
/** @internal */
export interface TensorMessage {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: (number | { toNumber(): number })[];
  doubleData?: number[];
  dataLocation?: number;
}
/** @internal */
export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}
/** @internal */
export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeMessage[];
}
/** @internal */
export interface ValueInfoMessage {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } };
}
